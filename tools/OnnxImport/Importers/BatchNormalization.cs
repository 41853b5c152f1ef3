using Backprop.Runtime;

namespace Backprop.Onnx.Importers;

/// <summary>
/// ONNX BatchNormalization (https://onnx.ai/onnx/operators/onnx__BatchNormalization.html): running statistics in inference;
/// in training mode, batch statistics, and the running statistics (when they are initializers) updated in place as
/// r ← momentum·r + (1 − momentum)·batch, with the unbiased batch variance for the running variance (as PyTorch, whose
/// exporter writes momentum = 1 − torch's momentum).
/// </summary>
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
        if (ctx.Opset >= 14 && ctx.Int("training_mode", 0) == 1) return NodeTrainingMode(ctx, x, scale, bias, mean, variance, eps, axes, shape);
        if (ctx.BatchStatistics)
        {
            m = Ops.ReduceMean(x, axes, keepDims: true);
            var centered = x - m;
            v = Ops.ReduceMean(centered * centered, axes, keepDims: true);
            UpdateRunning(ctx, x, m, v, mean, variance);
        }
        else
        {
            m = Ops.Reshape(mean, shape);
            v = Ops.Reshape(variance, shape);
        }
        var y = (x - m) / Ops.Sqrt(v + eps) * Ops.Reshape(scale, shape) + Ops.Reshape(bias, shape);
        return ctx.BatchStatistics ? [y, mean, variance] : [y];
    }

    /// <summary>
    /// A node that itself says training_mode = 1 (opset 14+): batch statistics, and the updated running statistics as the
    /// node's second and third outputs, by the ONNX formula (population variance), without touching the inputs.
    /// </summary>
    private static Tensor?[] NodeTrainingMode(NodeContext ctx, Tensor x, Tensor scale, Tensor bias, Tensor mean, Tensor variance, float eps, int[] axes, int[] shape)
    {
        var momentum = ctx.Float("momentum", 0.9f);
        var m = Ops.ReduceMean(x, axes, keepDims: true);
        var centered = x - m;
        var v = Ops.ReduceMean(centered * centered, axes, keepDims: true);
        var y = centered / Ops.Sqrt(v + eps) * Ops.Reshape(scale, shape) + Ops.Reshape(bias, shape);
        var keep = Ops.ScalarLike(mean, momentum);
        var blend = Ops.ScalarLike(mean, 1 - momentum);
        var runningMean = mean * keep + Ops.Reshape(Ops.Cast(m, mean.DType), mean.Shape.ToArray()) * blend;
        var runningVar = variance * keep + Ops.Reshape(Ops.Cast(v, variance.DType), variance.Shape.ToArray()) * blend;
        return [y, runningMean, runningVar];
    }

    private static void UpdateRunning(NodeContext ctx, Tensor x, Tensor batchMean, Tensor batchVar, Tensor runningMean, Tensor runningVar)
    {
        if (!runningMean.IsLeaf || !runningVar.IsLeaf) return; // computed statistics: nothing persistent to update
        var momentum = ctx.Float("momentum", 0.9f);
        var count = x.Size / Math.Max(1, x.Shape[1]);
        var unbias = count > 1 ? count / (count - 1.0) : 1.0;
        using var _ = GradMode.NoGrad();
        Blend(runningMean, batchMean.ToDoubleArray(), momentum, 1);
        Blend(runningVar, batchVar.ToDoubleArray(), momentum, unbias);
    }

    private static void Blend(Tensor running, double[] batch, double momentum, double factor)
    {
        if (running.DType == DType.Float32)
        {
            var r = running.Span<float>();
            for (var i = 0; i < r.Length; i++) r[i] = (float)(momentum * r[i] + (1 - momentum) * batch[i] * factor);
        }
        else
        {
            var r = running.Span<double>();
            for (var i = 0; i < r.Length; i++) r[i] = momentum * r[i] + (1 - momentum) * batch[i] * factor;
        }
    }
}
