namespace Backprop.Onnx.Importers;

/// <summary>ONNX LayerNormalization (https://onnx.ai/onnx/operators/onnx__LayerNormalization.html), opset 17: normalised over axes [axis, rank).</summary>
internal sealed class LayerNormalizationImporter : INodeImporter
{
    public string OpType => "LayerNormalization";

    public int SinceVersion => 17;

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        var axis = Shape.NormalizeAxis((int)ctx.Int("axis", -1), x.Rank);
        var axes = Enumerable.Range(axis, x.Rank - axis).ToArray();
        var m = Ops.ReduceMean(x, axes, keepDims: true);
        var c = x - m;
        var v = Ops.ReduceMean(c * c, axes, keepDims: true);
        var invStd = Ops.Reciprocal(Ops.Sqrt(v + ctx.Float("epsilon", 1e-5f)));
        var y = c * invStd * ctx.Input(1);
        if (ctx.Optional(2) is { } b) y = y + b;
        return [y, m, invStd];
    }
}
