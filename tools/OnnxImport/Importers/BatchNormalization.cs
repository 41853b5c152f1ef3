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
        if (x.Rank < 2 || scale.Size != x.Shape[1]) throw ctx.Error($"input {x.Shape} and scale {scale.Shape} do not agree on the channel count (axis 1).");
        var (gamma, beta) = (Ops.Reshape(scale, scale.Size), Ops.Reshape(bias, bias.Size));
        if (!ctx.BatchStatistics)
        {
            if (ctx.Int("training_mode", 0) != 0) return NodeTrainingMode(ctx, x, gamma, beta, mean, variance, eps);
            var (a, b) = InferenceAffine(ctx);
            return [Ops.ChannelAffine(x, a, b)];
        }
        var (y, mu, invStd) = Ops.BatchNormTraining(x, gamma, beta, eps);
        UpdateRunning(ctx, x, mu, invStd, eps, mean, variance);
        return [y, mean, variance];
    }

    /// <summary>
    /// Inference statistics as one per-channel affine map x·a + b: a = γ/√(σ²+ε), b = β − μ·a (each [C]). Reads only the
    /// node's parameters (inputs 1–4), so a fused convolution can apply it before the node's input exists.
    /// </summary>
    public static (Tensor Scale, Tensor Shift) InferenceAffine(NodeContext ctx)
    {
        var (scale, bias, mean, variance) = (ctx.Input(1), ctx.Input(2), ctx.Input(3), ctx.Input(4));
        var eps = ctx.Float("epsilon", 1e-5f);
        var a = Ops.Reshape(scale, scale.Size) / Ops.Sqrt(Ops.Reshape(variance, variance.Size) + eps);
        return (a, Ops.Reshape(bias, bias.Size) - Ops.Reshape(mean, mean.Size) * a);
    }

    /// <summary>
    /// A node that itself says training_mode = 1 (opset 14+): batch statistics, and the updated running statistics as the
    /// node's second and third outputs, by the ONNX formula (population variance), without touching the inputs.
    /// </summary>
    private static Tensor?[] NodeTrainingMode(NodeContext ctx, Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor variance, float eps)
    {
        var momentum = ctx.Float("momentum", 0.9f);
        var (y, mu, invStd) = Ops.BatchNormTraining(x, gamma, beta, eps);
        var batchVariance = Ops.ScalarLike(invStd, 1) / (invStd * invStd) - Ops.ScalarLike(invStd, eps); // as UpdateRunning reads it
        var keep = Ops.ScalarLike(mean, momentum);
        var blend = Ops.ScalarLike(mean, 1 - momentum);
        var runningMean = mean * keep + Ops.Reshape(Ops.Cast(mu, mean.DType), mean.Shape.ToArray()) * blend;
        var runningVar = variance * keep + Ops.Reshape(Ops.Cast(batchVariance, variance.DType), variance.Shape.ToArray()) * blend;
        return [y, runningMean, runningVar];
    }

    /// <summary>
    /// r ← momentum·r + (1 − momentum)·batch for the running mean and variance when they are initializers (the variance
    /// unbiased), read from the batch mean and inverse deviation of BatchNormTraining (or BatchNormAddRelu).
    /// </summary>
    internal static void UpdateRunning(NodeContext ctx, Tensor x, Tensor batchMean, Tensor invStd, double eps, Tensor runningMean, Tensor runningVar)
    {
        if (!runningMean.IsLeaf || !runningVar.IsLeaf) return; // computed statistics: nothing persistent to update
        var momentum = ctx.Float("momentum", 0.9f);
        var count = x.Size / Math.Max(1, x.Shape[1]);
        var unbias = count > 1 ? count / (count - 1.0) : 1.0;
        var variance = invStd.ToDoubleArray().Select(s => 1 / (s * s) - eps).ToArray();
        Blend(runningMean, batchMean.ToDoubleArray(), momentum, 1);
        Blend(runningVar, variance, momentum, unbias);
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
