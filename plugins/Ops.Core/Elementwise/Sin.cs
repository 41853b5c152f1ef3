using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Plugins.Core;

/// <summary>y = sin x; f′ = cos x.</summary>
internal sealed class Sin : ElementwiseUnaryOp
{
    public Sin() : base("Sin") { }

    protected override void Compute<T>(ReadOnlySpan<T> x, Span<T> y, OpAttributes attributes) => TensorPrimitives.Sin(x, y);

    protected override Tensor Derivative(OpContext ctx, Tensor x, Tensor y) => Ops.Cos(x);
}
