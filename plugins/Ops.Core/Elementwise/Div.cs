namespace Backprop.Plugins.Core;

/// <summary>y = a / b with broadcasting. ∂a = g / b, ∂b = −g·y / b.</summary>
internal sealed class Div : IDifferentiableOp, IOpSamples
{
    public OpSchema Schema { get; } = OpSchema.Of("Div", 2);

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x) => [Broadcast.Float<DivK<float>, DivK<double>>("Div", x[0], x[1])];

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g)
    {
        var b = ctx.Input(1);
        return
        [
            ctx.NeedsInputGrad[0] ? Grad.To(ctx, 0, Ops.Div(g[0]!, b)) : null,
            ctx.NeedsInputGrad[1] ? Grad.To(ctx, 1, Ops.Neg(Ops.Div(Ops.Mul(g[0]!, ctx.Output(0)), b))) : null,
        ];
    }

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t)
    {
        var b = ctx.Input(1);
        var fromA = t[0] is { } ta ? Ops.Div(ta, b) : null;
        var fromB = t[1] is { } tb ? Ops.Neg(Ops.Div(Ops.Mul(tb, ctx.Output(0)), b)) : null;
        return [Grad.Plus(fromA, fromB)];
    }

    public IEnumerable<OpSample> Samples(Random rng) => BinarySamples.Generate(rng, (-2, 2), (0.5, 2));
}
