namespace Backprop.Plugins.Core;

/// <summary>y = a·b with broadcasting. Bilinear: ∂a = g·b, ∂b = g·a, each summed back to its shape.</summary>
internal sealed class Mul : BilinearOp, IOpSamples
{
    public override OpSchema Schema { get; } = OpSchema.Of("Mul", 2);

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x) => [Broadcast.Float<MulK<float>, MulK<double>>("Mul", x[0], x[1])];

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) =>
    [
        ctx.NeedsInputGrad[0] ? Grad.To(ctx, 0, Ops.Mul(g[0]!, ctx.Input(1))) : null,
        ctx.NeedsInputGrad[1] ? Grad.To(ctx, 1, Ops.Mul(g[0]!, ctx.Input(0))) : null,
    ];

    public IEnumerable<OpSample> Samples(Random rng) => BinarySamples.Generate(rng, (-2, 2), (-2, 2));
}
