using System.Numerics;

namespace Backprop.Plugins.Core;

/// <summary>
/// Y = G·a[c] + X·b[c] + d[c] for G, X [N, C, …] of one shape and a, b, d [C] — batch normalisation's input gradient in
/// one pass over G and X (through a ChannelAffine of each and an add it took three passes and two temporaries).
/// VJP: dG = H·a[c], dX = H·b[c] (<see cref="ChannelAffine"/>), da = Σ H·G, db = Σ H·X, dd = Σ H
/// (<see cref="ChannelGradSums"/>); JVP: Ẏ = Ġ·a + Ẋ·b + ḋ + G·ȧ + X·ḃ (two ChannelMix).
/// </summary>
internal sealed class ChannelMix : IDifferentiableOp, IOpSamples
{
    public static readonly ChannelMix Instance = new();

    public OpSchema Schema { get; } = new(Ops.BackpropDomain, "ChannelMix", 1, 5, 5);

    /// <summary>G·a[c] + X·b[c] + d[c].</summary>
    public static Tensor Of(Tensor g, Tensor x, Tensor a, Tensor b, Tensor d) => TensorRuntime.Current.Invoke(Instance, [g, x, a, b, d], OpAttributes.Empty)[0];

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> inputs)
    {
        var (g, x) = (inputs[0], inputs[1]);
        var dtype = Broadcast.FloatOperands("ChannelMix", g, x);
        for (var i = 2; i < 5; i++) Broadcast.FloatOperands("ChannelMix", g, inputs[i]);
        if (g.Shape != x.Shape) throw new ShapeException($"ChannelMix: {g.Shape} and {x.Shape} must match.");
        var c = ChannelAffine.Channels(x, "ChannelMix");
        for (var i = 2; i < 5; i++)
            if (inputs[i].Shape != new Shape(c)) throw new ShapeException($"ChannelMix: coefficient {i - 1} is {inputs[i].Shape}, must be [{c}] for input {x.Shape}.");
        var y = Tensor.Empty(x.Shape, dtype);
        if (dtype == DType.Float32) Run<float>(inputs, y);
        else Run<double>(inputs, y);
        return [y];
    }

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> gs)
    {
        var (g, x, a, b) = (ctx.Input(0), ctx.Input(1), ctx.Input(2), ctx.Input(3));
        var h = gs[0]!;
        var zero = Ops.ScalarLike(a, 0) * a;
        Tensor? da = null, db = null, dd = null;
        if (ctx.NeedsInputGrad[2]) (da, dd) = ChannelGradSums.Of(h, g);
        if (ctx.NeedsInputGrad[3] || (ctx.NeedsInputGrad[4] && dd is null)) (db, dd) = ChannelGradSums.Of(h, x);
        return
        [
            ctx.NeedsInputGrad[0] ? Ops.ChannelAffine(h, a, zero) : null,
            ctx.NeedsInputGrad[1] ? Ops.ChannelAffine(h, b, zero) : null,
            da, ctx.NeedsInputGrad[3] ? db : null, ctx.NeedsInputGrad[4] ? dd : null,
        ];
    }

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t)
    {
        var (g, x, a, b) = (ctx.Input(0), ctx.Input(1), ctx.Input(2), ctx.Input(3));
        var zero = Ops.ScalarLike(a, 0) * a;
        Tensor Zeros() => Ops.ScalarLike(x, 0) * x;
        Tensor? result = null;
        if (t[0] is not null || t[1] is not null || t[4] is not null) result = Of(t[0] ?? Zeros(), t[1] ?? Zeros(), a, b, t[4] ?? zero);
        if (t[2] is not null || t[3] is not null)
        {
            var term = Of(g, x, t[2] ?? zero, t[3] ?? zero, zero);
            result = result is null ? term : result + term;
        }
        return [result];
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Run<T>(ReadOnlySpan<Tensor> inputs, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (g, x, a, b, d) = (inputs[0], inputs[1], inputs[2], inputs[3], inputs[4]);
        var (n, c) = (x.Shape[0], x.Shape[1]);
        var plane = n * c == 0 ? 0 : x.Size / (n * c);
        KernelThreads.ForRanges(n * c, ChannelAffine.Threads(x), (first, last) =>
        {
            for (var nc = first; nc < last; nc++)
            {
                var ch = nc % c;
                Mix(g.Span<T>().Slice(nc * plane, plane), x.Span<T>().Slice(nc * plane, plane), a.Span<T>()[ch], b.Span<T>()[ch], d.Span<T>()[ch], y.Span<T>().Slice(nc * plane, plane));
            }
        });
    }

    private static void Mix<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, T a, T b, T d, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (va, vb, vd) = (new Vector<T>(a), new Vector<T>(b), new Vector<T>(d));
        var i = 0;
        for (; i <= y.Length - Vector<T>.Count; i += Vector<T>.Count) (new Vector<T>(g[i..]) * va + new Vector<T>(x[i..]) * vb + vd).CopyTo(y[i..]);
        for (; i < y.Length; i++) y[i] = g[i] * a + x[i] * b + d;
    }

    public IEnumerable<OpSample> Samples(Random rng)
    {
        Tensor U(params int[] s) => BinarySamples.U(rng, s, (-1, 1));
        yield return new OpSample("[N, C]", U(3, 2), U(3, 2), U(2), U(2), U(2));
        yield return new OpSample("[N, C, H, W]", U(2, 2, 3, 3), U(2, 2, 3, 3), U(2), U(2), U(2));
    }
}
