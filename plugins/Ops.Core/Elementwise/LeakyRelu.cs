namespace Backprop.Plugins.Core;

/// <summary>y = x for x &gt; 0, alpha·x otherwise (attribute alpha, default 0.01).</summary>
internal sealed class LeakyRelu : ElementwiseUnaryOp
{
    public LeakyRelu() : base("LeakyRelu") { }

    protected override IReadOnlyList<double> Kinks => [0.0];

    protected override void Compute<T>(ReadOnlySpan<T> x, Span<T> y, OpAttributes attributes)
    {
        var alpha = T.CreateTruncating(attributes.GetDouble("alpha", 0.01));
        for (var i = 0; i < x.Length; i++) y[i] = x[i] > T.Zero ? x[i] : alpha * x[i];
    }

    protected override Tensor Derivative(OpContext ctx, Tensor x, Tensor y)
    {
        var alpha = ctx.Attributes.GetDouble("alpha", 0.01);
        var positive = Grad.Mask(Ops.Greater(x, Grad.C(x, 0)), x);
        return Ops.Add(Ops.Mul(positive, Grad.C(x, 1 - alpha)), Grad.C(x, alpha));
    }
}
