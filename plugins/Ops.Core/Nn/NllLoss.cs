namespace Backprop.Plugins.Core;

/// <summary>Mean negative log-likelihood: loss = −mean(logp[n, target[n]]). Linear in logp: VJP −g·onehot/N.</summary>
internal sealed class NllLoss : IDifferentiableOp, IOpSamples
{
    public OpSchema Schema { get; } = new(Ops.BackpropDomain, "NllLoss", 1, 2, 2);

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var targets = ClassTargets.Check("NllLoss", x[0], x[1]);
        var c = x[0].Shape[1];
        var sum = 0.0;
        for (var i = 0; i < targets.Length; i++) sum -= x[0].GetAsDouble(i * c + (int)targets[i]);
        return [Tensor.Scalar(targets.Length == 0 ? 0 : sum / targets.Length, x[0].DType)];
    }

    private static Tensor Weights(OpContext ctx)
    {
        var logp = ctx.Input(0);
        var targets = ClassTargets.Check("NllLoss", logp, ctx.Input(1));
        return Ops.Mul(ClassTargets.OneHot(logp, targets), Grad.C(logp, -1.0 / Math.Max(targets.Length, 1)));
    }

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) => [Ops.Mul(g[0]!, Weights(ctx)), null];

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t) => [t[0] is { } tx ? Ops.ReduceSum(Ops.Mul(tx, Weights(ctx))) : null];

    public IEnumerable<OpSample> Samples(Random rng) => ClassTargets.Samples(rng, logProbabilities: true);
}
