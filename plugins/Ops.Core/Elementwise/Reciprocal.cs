using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Plugins.Core;

/// <summary>y = 1/x; f′ = −y².</summary>
internal sealed class Reciprocal : ElementwiseUnaryOp
{
    public Reciprocal() : base("Reciprocal") { }

    protected override (double Low, double High) SampleRange => (0.5, 2);

    protected override void Compute<T>(ReadOnlySpan<T> x, Span<T> y, OpAttributes attributes) => TensorPrimitives.Reciprocal(x, y);

    protected override Tensor Derivative(OpContext ctx, Tensor x, Tensor y) => Ops.Neg(Ops.Mul(y, y));
}
