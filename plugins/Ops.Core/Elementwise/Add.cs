namespace Backprop.Plugins.Core;

/// <summary>y = a + b with broadcasting. Linear: the VJP sums the gradient back to each operand's shape.</summary>
internal sealed class Add : LinearOp, IOpSamples
{
    public override OpSchema Schema { get; } = OpSchema.Of("Add", 2);

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x) => [Broadcast.Float<AddK<float>, AddK<double>>("Add", x[0], x[1])];

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) =>
        [Grad.To(ctx, 0, g[0]), Grad.To(ctx, 1, g[0])];

    public IEnumerable<OpSample> Samples(Random rng) => BinarySamples.Generate(rng, (-2, 2), (-2, 2));
}
