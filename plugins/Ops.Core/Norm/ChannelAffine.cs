using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Plugins.Core;

/// <summary>
/// Per-channel affine map Y = X·a[c] + b[c] for X [N, C, …] and a, b [C] — the inner loop of batch normalisation, one pass
/// instead of a chain of broadcasts. VJP: dX = G·a[c], da = Σ G·X, db = Σ G (sums over every axis but 1, both in one pass:
/// <see cref="ChannelGradSums"/>);
/// JVP: dX·a[c] + X·da[c] + db[c].
/// </summary>
internal sealed class ChannelAffine : IDifferentiableOp, IOpSamples
{
    public OpSchema Schema { get; } = new(Ops.BackpropDomain, "ChannelAffine", 1, 3, 3);

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var (input, scale, shift) = (x[0], x[1], x[2]);
        var dtype = Broadcast.FloatOperands("ChannelAffine", input, scale);
        Broadcast.FloatOperands("ChannelAffine", input, shift);
        var channels = Channels(input, "ChannelAffine");
        if (scale.Shape != new Shape(channels) || shift.Shape != new Shape(channels))
            throw new ShapeException($"ChannelAffine: scale {scale.Shape} and shift {shift.Shape} must be [{channels}] for input {input.Shape}.");
        var y = Tensor.Empty(input.Shape, dtype);
        if (dtype == DType.Float32) Run<float>(input, scale, shift, y);
        else Run<double>(input, scale, shift, y);
        return [y];
    }

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g)
    {
        var (x, a) = (ctx.Input(0), ctx.Input(1));
        var grad = g[0]!;
        var (da, db) = ctx.NeedsInputGrad[1] || ctx.NeedsInputGrad[2] ? ChannelGradSums.Of(grad, x) : (null, null);
        return
        [
            ctx.NeedsInputGrad[0] ? Ops.ChannelAffine(grad, a, Ops.ScalarLike(a, 0) * a) : null,
            ctx.NeedsInputGrad[1] ? da : null,
            ctx.NeedsInputGrad[2] ? db : null,
        ];
    }

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t)
    {
        var (x, a, b) = (ctx.Input(0), ctx.Input(1), ctx.Input(2));
        var zero = Ops.ScalarLike(a, 0) * a;
        var result = t[0] is { } dx ? Ops.ChannelAffine(dx, a, t[2] ?? zero) : t[2] is { } db ? Ops.ChannelAffine(Ops.ScalarLike(x, 0) * x, zero, db) : null;
        if (t[1] is { } da)
        {
            var term = Ops.ChannelAffine(x, da, zero);
            result = result is null ? term : result + term;
        }
        _ = b;
        return [result];
    }

    internal static int Channels(Tensor x, string op) =>
        x.Rank >= 2 ? x.Shape[1] : throw new ShapeException($"{op}: input {x.Shape} needs a channel axis (rank ≥ 2, channels on axis 1).");

    internal static int[] OtherAxes(int rank) => Enumerable.Range(0, rank).Where(a => a != 1).ToArray();

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static void Run<T>(Tensor x, Tensor scale, Tensor shift, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, c) = (x.Shape[0], x.Shape[1]);
        var plane = n * c == 0 ? 0 : x.Size / (n * c);
        KernelThreads.ForRanges(n * c, Threads(x), (first, last) =>
        {
            for (var nc = first; nc < last; nc++)
            {
                var ch = nc % c;
                Affine(x.Span<T>().Slice(nc * plane, plane), scale.Span<T>()[ch], shift.Span<T>()[ch], y.Span<T>().Slice(nc * plane, plane));
            }
        });
    }

    /// <summary>
    /// Cores for a pass over <paramref name="x"/> plane by plane: all of them from 32K elements, whatever the plane size
    /// (ResNet's 7² and 14² activations ran on one core when the choice went by plane), in contiguous ranges of planes.
    /// </summary>
    internal static int Threads(Tensor x) => x.Size >= 1 << 15 ? Environment.ProcessorCount : 1;

    /// <summary>dst = src·a + b in one pass (a multiply pass and an add pass cost a plane of 112² twice from L2).</summary>
    private static void Affine<T>(ReadOnlySpan<T> src, T a, T b, Span<T> dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (va, vb) = (new Vector<T>(a), new Vector<T>(b));
        var i = 0;
        for (; i <= src.Length - Vector<T>.Count; i += Vector<T>.Count) (new Vector<T>(src[i..]) * va + vb).CopyTo(dst[i..]);
        for (; i < src.Length; i++) dst[i] = src[i] * a + b;
    }

    public IEnumerable<OpSample> Samples(Random rng)
    {
        Tensor U(params int[] s) => BinarySamples.U(rng, s, (-1, 1));
        yield return new OpSample("[N, C]", U(3, 2), U(2), U(2));
        yield return new OpSample("[N, C, L]", U(2, 3, 4), U(3), U(3));
        yield return new OpSample("[N, C, H, W]", U(2, 2, 3, 3), U(2), U(2));
    }
}
