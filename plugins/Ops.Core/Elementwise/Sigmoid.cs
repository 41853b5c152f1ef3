using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Plugins.Core;

/// <summary>y = 1/(1 + e⁻ˣ); f′ = y(1 − y).</summary>
internal sealed class Sigmoid : ElementwiseUnaryOp
{
    public Sigmoid() : base("Sigmoid") { }

    protected override void Compute<T>(ReadOnlySpan<T> x, Span<T> y, OpAttributes attributes) =>
        SpanParallel.Map(x, y, static (a, b) => TensorPrimitives.Sigmoid(a, b));

    protected override Tensor Derivative(OpContext ctx, Tensor x, Tensor y) => Ops.Mul(y, Ops.Sub(Grad.C(y, 1), y));
}
