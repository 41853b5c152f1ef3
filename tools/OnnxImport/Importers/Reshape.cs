namespace Backprop.Onnx.Importers;

/// <summary>ONNX Reshape (https://onnx.ai/onnx/operators/onnx__Reshape.html): shape attribute before opset 5, input after; 0 copies, -1 infers.</summary>
internal sealed class ReshapeImporter : INodeImporter
{
    public string OpType => "Reshape";

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        var spec = ctx.Opset < 5 ? ctx.Ints("shape") ?? throw ctx.Error("shape is required.") : ctx.Longs(1);
        if (ctx.Int("allowzero", 0) != 0 && spec.Contains(0))
            return [Ops.Call("Reshape", OpAttributes.Of(("shape", spec.Select(v => (int)v).ToArray()), ("allowzero", 1L)), x)];
        if (spec.Any(v => v < -1 || v > int.MaxValue)) throw ctx.Error($"shape [{string.Join(", ", spec)}] has a dimension outside [−1, {int.MaxValue}].");
        if (spec.Select((v, i) => v == 0 && i >= x.Rank).Any(b => b)) throw ctx.Error($"shape [{string.Join(", ", spec)}] copies (0) a dimension the input {x.Shape} does not have.");
        var dims = spec.Select((v, i) => v == 0 ? x.Shape.Dims[i] : (int)v).ToArray();
        return [Ops.Reshape(x, dims)];
    }
}
