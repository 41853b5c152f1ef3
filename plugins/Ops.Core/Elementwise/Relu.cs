using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Plugins.Core;

/// <summary>y = max(x, 0); the backward is a mask of x &gt; 0.</summary>
internal sealed class Relu : ElementwiseUnaryOp
{
    public Relu() : base("Relu") { }

    protected override IReadOnlyList<double> Kinks => [0.0];

    protected override void Compute<T>(ReadOnlySpan<T> x, Span<T> y, OpAttributes attributes) => TensorPrimitives.Max(x, T.Zero, y);

    protected override Tensor Derivative(OpContext ctx, Tensor x, Tensor y) => Grad.Mask(Ops.Greater(x, Grad.C(x, 0)), x);
}
