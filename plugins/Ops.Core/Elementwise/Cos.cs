using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Plugins.Core;

/// <summary>y = cos x; f′ = −sin x.</summary>
internal sealed class Cos : ElementwiseUnaryOp
{
    public Cos() : base("Cos") { }

    protected override void Compute<T>(ReadOnlySpan<T> x, Span<T> y, OpAttributes attributes) => TensorPrimitives.Cos(x, y);

    protected override Tensor Derivative(OpContext ctx, Tensor x, Tensor y) => Ops.Neg(Ops.Sin(x));
}
