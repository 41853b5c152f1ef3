using System.Numerics;
using System.Runtime.Intrinsics;

namespace Backprop.Plugins.Core;

/// <summary>
/// y = g where x &gt; 0, else 0 (same shapes): ReLU's backward as one vectorised select. Linear in g; constant in x
/// (its derivative there is zero almost everywhere), so the rules pass the mask on.
/// </summary>
internal sealed class PositiveMask : IDifferentiableOp
{
    public static readonly PositiveMask Instance = new();

    public OpSchema Schema { get; } = new(Ops.BackpropDomain, "PositiveMask", 1, 2, 2);

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> inputs)
    {
        var (g, x) = (inputs[0], inputs[1]);
        if (g.Shape != x.Shape || g.DType != x.DType) throw new ShapeException($"PositiveMask: {g.DType} {g.Shape} and {x.DType} {x.Shape} must match.");
        var y = Tensor.Empty(g.Shape, g.DType);
        if (g.DType == DType.Float32) SpanParallel.Map2<float>(g.Span<float>(), x.Span<float>(), y.Span<float>(), Select);
        else SpanParallel.Map2<double>(g.Span<double>(), x.Span<double>(), y.Span<double>(), Select);
        return [y];
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Select<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= g.Length - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                var mask = Vector512.GreaterThan(Vector512.Create(x.Slice(i, Vector512<T>.Count)), Vector512<T>.Zero);
                (Vector512.Create(g.Slice(i, Vector512<T>.Count)) & mask).CopyTo(y.Slice(i, Vector512<T>.Count));
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= g.Length - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var mask = Vector256.GreaterThan(Vector256.Create(x.Slice(i, Vector256<T>.Count)), Vector256<T>.Zero);
                (Vector256.Create(g.Slice(i, Vector256<T>.Count)) & mask).CopyTo(y.Slice(i, Vector256<T>.Count));
            }
        }
        for (; i < g.Length; i++) y[i] = x[i] > T.Zero ? g[i] : T.Zero;
    }

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) =>
        [g[0] is { } gy ? Ops.Call(Instance, OpAttributes.Empty, gy, ctx.Input(1)) : null, null];

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t) =>
        [t[0] is { } tg ? Ops.Call(Instance, OpAttributes.Empty, tg, ctx.Input(1)) : null];
}
