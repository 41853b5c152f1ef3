namespace Backprop.Plugins.Core;

/// <summary>Sum over axes. Linear: the VJP broadcasts the gradient back over the reduced axes.</summary>
internal sealed class ReduceSum : LinearOp, IOpSamples
{
    public override OpSchema Schema { get; } = OpSchema.Of("ReduceSum", 1);

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x) => [ReduceKernels.Sum(x[0], ReduceAxes.Of(ctx, x[0].Shape))];

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) => [ReduceAxes.Of(ctx, ctx.Input(0).Shape).Spread(g[0]!)];

    public IEnumerable<OpSample> Samples(Random rng) => ReduceSamples.Generate(rng);
}
