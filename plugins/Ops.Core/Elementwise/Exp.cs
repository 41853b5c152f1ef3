using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Plugins.Core;

/// <summary>y = eˣ; f′ = y.</summary>
internal sealed class Exp : ElementwiseUnaryOp
{
    public Exp() : base("Exp") { }

    protected override void Compute<T>(ReadOnlySpan<T> x, Span<T> y, OpAttributes attributes) =>
        SpanParallel.Map(x, y, static (a, b) => TensorPrimitives.Exp(a, b));

    protected override Tensor Derivative(OpContext ctx, Tensor x, Tensor y) => y;
}
