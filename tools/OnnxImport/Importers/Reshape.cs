namespace Backprop.Onnx.Importers;

/// <summary>ONNX Reshape (https://onnx.ai/onnx/operators/onnx__Reshape.html): shape attribute before opset 5, input after; 0 copies, -1 infers.</summary>
internal sealed class ReshapeImporter : INodeImporter
{
    public string OpType => "Reshape";

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        var spec = ctx.Opset < 5 ? ctx.Ints("shape") ?? throw ctx.Error("shape is required.") : ctx.Longs(1);
        if (ctx.Int("allowzero", 0) != 0 && spec.Contains(0)) return [Ops.Reshape(x, spec.Select(v => (int)v).ToArray())];
        var dims = spec.Select((v, i) => v == 0 ? x.Shape.Dims[i] : (int)v).ToArray();
        return [Ops.Reshape(x, dims)];
    }
}
