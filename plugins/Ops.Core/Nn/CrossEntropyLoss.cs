namespace Backprop.Plugins.Core;

/// <summary>
/// Mean cross-entropy of int64 targets [N] given logits [N, C], fused: loss = mean(logsumexp(x) − x[target]),
/// computed with the maximum subtracted. VJP: g·(softmax(x) − onehot)/N, written in ops so it differentiates again.
/// </summary>
internal sealed class CrossEntropyLoss : IDifferentiableOp, IOpSamples
{
    public OpSchema Schema { get; } = new(Ops.BackpropDomain, "CrossEntropyLoss", 1, 2, 2);

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var targets = ClassTargets.Check("CrossEntropyLoss", x[0], x[1]);
        var logp = SoftmaxKernel.Run(x[0], -1, log: true);
        var c = x[0].Shape[1];
        var sum = 0.0;
        for (var i = 0; i < targets.Length; i++) sum -= logp.GetAsDouble(i * c + (int)targets[i]);
        return [Tensor.Scalar(targets.Length == 0 ? 0 : sum / targets.Length, x[0].DType)];
    }

    private static Tensor Direction(OpContext ctx)
    {
        var logits = ctx.Input(0);
        var targets = ClassTargets.Check("CrossEntropyLoss", logits, ctx.Input(1));
        var softmax = Ops.Exp(Ops.LogSoftmax(logits, -1));
        return Ops.Mul(Ops.Sub(softmax, ClassTargets.OneHot(logits, targets)), Grad.C(logits, 1.0 / Math.Max(targets.Length, 1)));
    }

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) => [Ops.Mul(g[0]!, Direction(ctx)), null];

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t) => [t[0] is { } tx ? Ops.ReduceSum(Ops.Mul(tx, Direction(ctx))) : null];

    public IEnumerable<OpSample> Samples(Random rng) => ClassTargets.Samples(rng, logProbabilities: false);
}
