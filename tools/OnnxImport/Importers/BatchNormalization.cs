namespace Backprop.Onnx.Importers;

/// <summary>ONNX BatchNormalization (https://onnx.ai/onnx/operators/onnx__BatchNormalization.html): running statistics in inference, batch statistics in training mode (running-stat updates come with fine-tuning).</summary>
internal sealed class BatchNormalizationImporter : INodeImporter
{
    public string OpType => "BatchNormalization";

    public Tensor?[] Run(NodeContext ctx)
    {
        var (x, scale, bias, mean, variance) = (ctx.Input(0), ctx.Input(1), ctx.Input(2), ctx.Input(3), ctx.Input(4));
        var eps = ctx.Float("epsilon", 1e-5f);
        var shape = Helpers.ChannelShape(x, scale.Size);
        var axes = Enumerable.Range(0, x.Rank).Where(a => a != 1).ToArray();
        Tensor m, v;
        if (ctx.Training)
        {
            m = Ops.ReduceMean(x, axes, keepDims: true);
            var centered = x - m;
            v = Ops.ReduceMean(centered * centered, axes, keepDims: true);
        }
        else
        {
            m = Ops.Reshape(mean, shape);
            v = Ops.Reshape(variance, shape);
        }
        var y = (x - m) / Ops.Sqrt(v + eps) * Ops.Reshape(scale, shape) + Ops.Reshape(bias, shape);
        return [y];
    }
}
