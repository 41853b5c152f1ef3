using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Plugins.Core;

/// <summary>y = √x; f′ = 1/(2y).</summary>
internal sealed class Sqrt : ElementwiseUnaryOp
{
    public Sqrt() : base("Sqrt") { }

    protected override (double Low, double High) SampleRange => (0.5, 2);

    protected override void Compute<T>(ReadOnlySpan<T> x, Span<T> y, OpAttributes attributes) => TensorPrimitives.Sqrt(x, y);

    protected override Tensor Derivative(OpContext ctx, Tensor x, Tensor y) => Ops.Div(Grad.C(y, 0.5), y);
}
