using System.Numerics.Tensors;

namespace Backprop.Plugins.Core;

/// <summary>y = max(x, 0). The backward is a mask: g where x &gt; 0 (<see cref="PositiveMask"/>), no multiply.</summary>
internal sealed class Relu : ElementwiseUnaryOp
{
    public Relu() : base("Relu") { }

    protected override IReadOnlyList<double> Kinks => [0.0];

    protected override void Compute<T>(ReadOnlySpan<T> x, Span<T> y, OpAttributes attributes) =>
        SpanParallel.Map(x, y, static (a, b) => TensorPrimitives.Max(a, T.Zero, b));

    protected override Tensor Derivative(OpContext ctx, Tensor x, Tensor y) => Grad.Mask(Ops.Greater(x, Grad.C(x, 0)), x);

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) =>
        [g[0] is { } gy ? Ops.Call(PositiveMask.Instance, OpAttributes.Empty, gy, ctx.Input(0)) : null];

    public override Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t) =>
        [t[0] is { } tx ? Ops.Call(PositiveMask.Instance, OpAttributes.Empty, tx, ctx.Input(0)) : null];
}
