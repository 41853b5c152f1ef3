namespace Backprop.Onnx.Importers;

/// <summary>ONNX Flatten (https://onnx.ai/onnx/operators/onnx__Flatten.html): 2-D [prod(dims[:axis]), prod(dims[axis:])].</summary>
internal sealed class FlattenImporter : INodeImporter
{
    public string OpType => "Flatten";

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        var axis = (int)ctx.Int("axis", 1);
        if (axis < 0) axis += x.Rank;
        if (axis < 0 || axis > x.Rank) throw ctx.Error($"axis {ctx.Int("axis", 1)} is outside [−{x.Rank}, {x.Rank}] for input {x.Shape}.");
        var outer = x.Shape.Dims[..axis].ToArray().Aggregate(1, (a, b) => a * b);
        return [Ops.Reshape(x, outer, outer == 0 ? 0 : x.Size / outer)];
    }
}
