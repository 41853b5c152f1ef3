using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Plugins.Core;

/// <summary>y = tanh x; f′ = 1 − y².</summary>
internal sealed class Tanh : ElementwiseUnaryOp
{
    public Tanh() : base("Tanh") { }

    protected override void Compute<T>(ReadOnlySpan<T> x, Span<T> y, OpAttributes attributes) =>
        SpanParallel.Map(x, y, static (a, b) => TensorPrimitives.Tanh(a, b));

    protected override Tensor Derivative(OpContext ctx, Tensor x, Tensor y) => Ops.Sub(Grad.C(y, 1), Ops.Mul(y, y));
}
