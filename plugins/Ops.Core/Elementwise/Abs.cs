using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Plugins.Core;

/// <summary>y = |x|; f′ = sign x.</summary>
internal sealed class Abs : ElementwiseUnaryOp
{
    public Abs() : base("Abs") { }

    protected override IReadOnlyList<double> Kinks => [0.0];

    protected override void Compute<T>(ReadOnlySpan<T> x, Span<T> y, OpAttributes attributes) => TensorPrimitives.Abs(x, y);

    protected override Tensor Derivative(OpContext ctx, Tensor x, Tensor y) => Ops.Sign(x);
}
