namespace Backprop.Plugins.Core;

/// <summary>y = x for x &gt; 0, alpha·(eˣ − 1) otherwise; f′ = 1 or y + alpha.</summary>
internal sealed class Elu : ElementwiseUnaryOp
{
    public Elu() : base("Elu") { }

    protected override IReadOnlyList<double> Kinks => [0.0];

    protected override void Compute<T>(ReadOnlySpan<T> x, Span<T> y, OpAttributes attributes)
    {
        var alpha = T.CreateTruncating(attributes.GetDouble("alpha", 1.0));
        for (var i = 0; i < x.Length; i++) y[i] = x[i] > T.Zero ? x[i] : alpha * (T.Exp(x[i]) - T.One);
    }

    protected override Tensor Derivative(OpContext ctx, Tensor x, Tensor y)
    {
        var alpha = ctx.Attributes.GetDouble("alpha", 1.0);
        var positive = Ops.Greater(x, Grad.C(x, 0));
        // Below zero f′ = alpha·eˣ, written through x (not y) so that second derivatives are right.
        return Ops.Where(positive, Tensor.OnesLike(x), Ops.Mul(Grad.C(x, alpha), Ops.Exp(x)));
    }
}
