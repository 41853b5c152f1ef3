using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Plugins.Core;

/// <summary>y = ln x; f′ = 1/x.</summary>
internal sealed class Log : ElementwiseUnaryOp
{
    public Log() : base("Log") { }

    protected override (double Low, double High) SampleRange => (0.5, 2);

    protected override void Compute<T>(ReadOnlySpan<T> x, Span<T> y, OpAttributes attributes) => TensorPrimitives.Log(x, y);

    protected override Tensor Derivative(OpContext ctx, Tensor x, Tensor y) => Ops.Reciprocal(x);
}
