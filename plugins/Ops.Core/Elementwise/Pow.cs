namespace Backprop.Plugins.Core;

/// <summary>y = aᵇ with broadcasting. ∂a = g·b·aᵇ⁻¹, ∂b = g·y·ln a (defined for a &gt; 0).</summary>
internal sealed class Pow : IDifferentiableOp, IOpSamples
{
    public OpSchema Schema { get; } = OpSchema.Of("Pow", 2);

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        // x² (variances in every LayerNorm) as a multiply and x¹ (its derivative's power) as a copy: the general pow costs
        // ~20× more per element.
        var scalarExponent = x[1].Size == 1 && x[1].Rank <= x[0].Rank && x[0].DType == x[1].DType;
        if (scalarExponent && x[1].GetAsDouble(0) == 1 && x[0].DType.IsFloatingPoint()) return [x[0].Clone()];
        if (scalarExponent && x[1].GetAsDouble(0) == 2)
        {
            var y = Tensor.Empty(x[0].Shape, x[0].DType);
            if (y.DType == DType.Float32) System.Numerics.Tensors.TensorPrimitives.Multiply(x[0].Span<float>(), x[0].Span<float>(), y.Span<float>());
            else if (y.DType == DType.Float64) System.Numerics.Tensors.TensorPrimitives.Multiply(x[0].Span<double>(), x[0].Span<double>(), y.Span<double>());
            else return [Broadcast.Float<PowK<float>, PowK<double>>("Pow", x[0], x[1])];
            return [y];
        }
        return [Broadcast.Float<PowK<float>, PowK<double>>("Pow", x[0], x[1])];
    }

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) =>
    [
        ctx.NeedsInputGrad[0] ? Grad.To(ctx, 0, Ops.Mul(g[0]!, DA(ctx))) : null,
        ctx.NeedsInputGrad[1] ? Grad.To(ctx, 1, Ops.Mul(g[0]!, DB(ctx))) : null,
    ];

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t) =>
        [Grad.Plus(t[0] is { } ta ? Ops.Mul(ta, DA(ctx)) : null, t[1] is { } tb ? Ops.Mul(tb, DB(ctx)) : null)];

    private static Tensor DA(OpContext ctx)
    {
        var a = ctx.Input(0);
        var b = ctx.Input(1);
        return Ops.Mul(b, Ops.Pow(a, Ops.Sub(b, Grad.C(b, 1))));
    }

    private static Tensor DB(OpContext ctx) => Ops.Mul(ctx.Output(0), Ops.Log(ctx.Input(0)));

    public IEnumerable<OpSample> Samples(Random rng) => BinarySamples.Generate(rng, (0.5, 2), (-2, 2));
}
