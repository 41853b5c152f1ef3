using System.Numerics;

namespace Backprop.Plugins.Core;

/// <summary>
/// Per-channel sums of G [N, C, …] against X of the same shape: u[c] = Σ G·X and v[c] = Σ G over every axis but 1 — the
/// scale and shift gradients of <see cref="ChannelAffine"/> in one pass over G and X, instead of a product tensor, its
/// sum and a second sum of G (five passes over activations the size of a ResNet feature map). Bilinear in (G, X) for u,
/// linear in G for v. VJP: dG = X·gu[c] + gv[c], dX = G·gu[c] (both <see cref="ChannelAffine"/>); JVP: du = u(tG, X) +
/// u(G, tX), dv = v(tG).
/// </summary>
internal sealed class ChannelGradSums : IDifferentiableOp, IOpSamples
{
    public static readonly ChannelGradSums Instance = new();

    public OpSchema Schema { get; } = new(Ops.BackpropDomain, "ChannelGradSums", 1, 2, 2, 2);

    /// <summary>(Σ G·X, Σ G) per channel.</summary>
    public static (Tensor GX, Tensor G) Of(Tensor g, Tensor x)
    {
        var r = TensorRuntime.Current.Invoke(Instance, [g, x], OpAttributes.Empty);
        return (r[0], r[1]);
    }

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> inputs)
    {
        var (g, x) = (inputs[0], inputs[1]);
        var dtype = Broadcast.FloatOperands("ChannelGradSums", g, x);
        if (g.Shape != x.Shape) throw new ShapeException($"ChannelGradSums: {g.Shape} and {x.Shape} must match.");
        var c = ChannelAffine.Channels(x, "ChannelGradSums");
        var (u, v) = (Tensor.Empty(new Shape(c), dtype), Tensor.Empty(new Shape(c), dtype));
        if (dtype == DType.Float32) Run<float>(g, x, u, v);
        else Run<double>(g, x, u, v);
        return [u, v];
    }

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> gs)
    {
        var (g, x) = (ctx.Input(0), ctx.Input(1));
        var (gu, gv) = (gs[0], gs[1]);
        var zero = Ops.ScalarLike(ctx.Output(0), 0) * ctx.Output(0);
        Tensor? dg = null;
        if (ctx.NeedsInputGrad[0])
            dg = gu is not null ? Ops.ChannelAffine(x, gu, gv ?? zero) : Ops.ChannelAffine(Ops.ScalarLike(x, 0) * x, zero, gv!);
        var dx = ctx.NeedsInputGrad[1] && gu is not null ? Ops.ChannelAffine(g, gu, zero) : null;
        return [dg, dx];
    }

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t)
    {
        var (g, x) = (ctx.Input(0), ctx.Input(1));
        Tensor? du = null, dv = null;
        if (t[0] is { } tg) (du, dv) = Of(tg, x);
        if (t[1] is { } tx)
        {
            var term = Of(g, tx).GX;
            du = du is null ? term : du + term;
        }
        return [du, dv];
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Run<T>(Tensor g, Tensor x, Tensor u, Tensor v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, c) = (x.Shape[0], x.Shape[1]);
        var plane = n * c == 0 ? 0 : x.Size / (n * c);
        KernelThreads.ForEachInRanges(c, ChannelAffine.Threads(x), ch =>
        {
            var (gx, sum) = (0.0, 0.0);
            for (var i = 0; i < n; i++)
            {
                var at = (i * c + ch) * plane;
                var (a, b) = Plane(g.Span<T>().Slice(at, plane), x.Span<T>().Slice(at, plane));
                (gx, sum) = (gx + a, sum + b);
            }
            u.Span<T>()[ch] = T.CreateTruncating(gx);
            v.Span<T>()[ch] = T.CreateTruncating(sum);
        });
    }

    /// <summary>(Σ g·x, Σ g) over one plane, on vectors; each plane's sums are added up in float64.</summary>
    private static (double GX, double G) Plane<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (dot, sum) = (Vector<T>.Zero, Vector<T>.Zero);
        var i = 0;
        for (; i <= g.Length - Vector<T>.Count; i += Vector<T>.Count)
        {
            var gv = new Vector<T>(g[i..]);
            (dot, sum) = (dot + gv * new Vector<T>(x[i..]), sum + gv);
        }
        var (a, b) = (double.CreateTruncating(Vector.Sum(dot)), double.CreateTruncating(Vector.Sum(sum)));
        for (; i < g.Length; i++) (a, b) = (a + double.CreateTruncating(g[i] * x[i]), b + double.CreateTruncating(g[i]));
        return (a, b);
    }

    public IEnumerable<OpSample> Samples(Random rng)
    {
        Tensor U(params int[] s) => BinarySamples.U(rng, s, (-1, 1));
        yield return new OpSample("[N, C]", U(3, 2), U(3, 2));
        yield return new OpSample("[N, C, L]", U(2, 3, 4), U(2, 3, 4));
        yield return new OpSample("[N, C, H, W]", U(2, 2, 3, 5), U(2, 2, 3, 5));
    }
}
