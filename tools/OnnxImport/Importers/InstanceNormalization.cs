namespace Backprop.Onnx.Importers;

/// <summary>ONNX InstanceNormalization (https://onnx.ai/onnx/operators/onnx__InstanceNormalization.html).</summary>
internal sealed class InstanceNormalizationImporter : INodeImporter
{
    public string OpType => "InstanceNormalization";

    public Tensor?[] Run(NodeContext ctx)
    {
        var (x, scale, bias) = (ctx.Input(0), ctx.Input(1), ctx.Input(2));
        if (x.Rank < 3) throw ctx.Error($"input {x.Shape} needs a batch, a channel and at least one spatial axis.");
        var axes = Enumerable.Range(2, x.Rank - 2).ToArray();
        var m = Ops.ReduceMean(x, axes, keepDims: true);
        var c = x - m;
        var v = Ops.ReduceMean(c * c, axes, keepDims: true);
        var shape = Helpers.ChannelShape(x, scale.Size);
        return [c / Ops.Sqrt(v + ctx.Float("epsilon", 1e-5f)) * Ops.Reshape(scale, shape) + Ops.Reshape(bias, shape)];
    }
}
