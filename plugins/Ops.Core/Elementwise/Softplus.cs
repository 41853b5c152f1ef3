using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Plugins.Core;

/// <summary>y = ln(1 + eˣ), computed as max(x, 0) + ln(1 + e^−|x|); f′ = σ(x).</summary>
internal sealed class Softplus : ElementwiseUnaryOp
{
    public Softplus() : base("Softplus") { }

    protected override void Compute<T>(ReadOnlySpan<T> x, Span<T> y, OpAttributes attributes)
    {
        for (var i = 0; i < x.Length; i++) y[i] = T.Max(x[i], T.Zero) + T.LogP1(T.Exp(-T.Abs(x[i])));
    }

    protected override Tensor Derivative(OpContext ctx, Tensor x, Tensor y) => Ops.Sigmoid(x);
}
