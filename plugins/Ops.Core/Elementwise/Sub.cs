namespace Backprop.Plugins.Core;

/// <summary>y = a − b with broadcasting.</summary>
internal sealed class Sub : LinearOp, IOpSamples
{
    public override OpSchema Schema { get; } = OpSchema.Of("Sub", 2);

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x) => [Broadcast.Float<SubK<float>, SubK<double>>("Sub", x[0], x[1])];

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) =>
        [Grad.To(ctx, 0, g[0]), ctx.NeedsInputGrad[1] ? Grad.To(ctx, 1, Ops.Neg(g[0]!)) : null];

    public IEnumerable<OpSample> Samples(Random rng) => BinarySamples.Generate(rng, (-2, 2), (-2, 2));
}
