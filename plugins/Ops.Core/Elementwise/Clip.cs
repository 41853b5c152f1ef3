namespace Backprop.Plugins.Core;

/// <summary>y = min(max(x, min), max) (attributes min, max; with min &gt; max every y is max). The gradient passes where min &lt; x &lt; max.</summary>
internal sealed class Clip : ElementwiseUnaryOp
{
    public Clip() : base("Clip") { }

    protected override IReadOnlyList<double> Kinks => [-1.0, 1.5];

    private static (double Min, double Max) Bounds(OpAttributes a) =>
        (a.GetDouble("min", double.NegativeInfinity), a.GetDouble("max", double.PositiveInfinity));

    protected override void Compute<T>(ReadOnlySpan<T> x, Span<T> y, OpAttributes attributes)
    {
        var (lo, hi) = Bounds(attributes);
        var tlo = T.CreateTruncating(lo);
        var thi = T.CreateTruncating(hi);
        // max first, then min, as ONNX defines it: with min > max every output is max.
        for (var i = 0; i < x.Length; i++)
        {
            var v = x[i] < tlo ? tlo : x[i];
            y[i] = T.IsNaN(x[i]) ? x[i] : v > thi ? thi : v;
        }
    }

    protected override Tensor Derivative(OpContext ctx, Tensor x, Tensor y)
    {
        var (lo, hi) = Bounds(ctx.Attributes);
        var inside = Ops.Mul(Grad.Mask(Ops.Greater(x, Grad.C(x, lo)), x), Grad.Mask(Ops.Less(x, Grad.C(x, hi)), x));
        return inside;
    }

    public override IEnumerable<OpSample> Samples(Random rng) =>
        base.Samples(rng).Select(s => s with { Attributes = OpAttributes.Of(("min", -1.0), ("max", 1.5)) });
}
