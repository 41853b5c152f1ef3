using System.Numerics;
using System.Runtime.CompilerServices;
using static Backprop.Plugins.Core.WinogradLanes;

namespace Backprop.Plugins.Core;

/// <summary>
/// F(4×4, 3×3), interpolating at 0, ±1, ±2 and ∞:
/// Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1],
/// G = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1⁄24 1⁄12 ⅙; 1⁄24 −1⁄12 ⅙; 0 0 1],
/// Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1].
/// 4× fewer multiplications than direct (36 per 16 outputs) and a quarter less transform traffic per output than
/// F(2×2), at the price of larger constants: float32 results carry errors of a few 1e-7 of Σ|terms| instead of ~1e-7.
/// </summary>
internal readonly struct WinogradF4 : IWinogradScheme
{
    public static int Out => 4;

    public static int Alpha => 6;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Filters<T>(T[] taps, T[] u, int channels, int offset, int planeStride) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<Vector<T>> t = stackalloc Vector<T>[18]; // t[3ξ + j] = (G·g)[ξ][j]
        for (var c = 0; c < channels; c += Vector<T>.Count)
        {
            // The last step overlaps the one before (recomputing some channels) when the count is not a multiple of the width.
            c = Math.Min(c, channels - Vector<T>.Count);
            for (var j = 0; j < 3; j++)
            {
                var (g0, g1, g2) = (Load(taps, j * channels + c), Load(taps, (3 + j) * channels + c), Load(taps, (6 + j) * channels + c));
                (t[j], t[3 + j], t[6 + j], t[9 + j], t[12 + j], t[15 + j]) = Column(g0, g1, g2);
            }
            for (var xi = 0; xi < 6; xi++)
            {
                var (u0, u1, u2, u3, u4, u5) = Column(t[3 * xi], t[3 * xi + 1], t[3 * xi + 2]);
                var at = 6 * xi * planeStride + offset + c;
                u0.CopyTo(u, at);
                u1.CopyTo(u, at + planeStride);
                u2.CopyTo(u, at + 2 * planeStride);
                u3.CopyTo(u, at + 3 * planeStride);
                u4.CopyTo(u, at + 4 * planeStride);
                u5.CopyTo(u, at + 5 * planeStride);
            }
            if (c + Vector<T>.Count >= channels) break;
        }
    }

    /// <summary>G·(g0, g1, g2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector<T>, Vector<T>, Vector<T>, Vector<T>, Vector<T>, Vector<T>) Column<T>(Vector<T> g0, Vector<T> g1, Vector<T> g2)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var quarter = new Vector<T>(T.CreateTruncating(0.25));
        var sixth = new Vector<T>(T.One / T.CreateTruncating(6));
        var twelfth = new Vector<T>(T.One / T.CreateTruncating(12));
        var twentyFourth = new Vector<T>(T.One / T.CreateTruncating(24));
        var outer = g0 + g2;
        var (p, q) = (twentyFourth * g0 + sixth * g2, twelfth * g1);
        return (quarter * g0, -sixth * (outer + g1), sixth * (g1 - outer), p + q, p - q, g2);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Inputs<T>(T[] e, int blockStride, T[] v, int count, int offset, int planeStride) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<Vector<T>> r = stackalloc Vector<T>[36]; // r[6ξ + j] = (Bᵀ·d)[ξ][j]
        Span<T> lanes = stackalloc T[Vector<T>.Count];
        for (var tx = 0; tx < count; tx += Vector<T>.Count)
        {
            var live = Math.Min(Vector<T>.Count, count - tx);
            for (var j = 0; j < 6; j++)
            {
                var at = j * blockStride + tx;
                var s = 6 * blockStride;
                (r[j], r[6 + j], r[12 + j], r[18 + j], r[24 + j], r[30 + j]) =
                    Transform(Load(e, at), Load(e, at + s), Load(e, at + 2 * s), Load(e, at + 3 * s), Load(e, at + 4 * s), Load(e, at + 5 * s));
            }
            for (var xi = 0; xi < 6; xi++)
            {
                var (v0, v1, v2, v3, v4, v5) = Transform(r[6 * xi], r[6 * xi + 1], r[6 * xi + 2], r[6 * xi + 3], r[6 * xi + 4], r[6 * xi + 5]);
                var at = 6 * xi * planeStride + offset + tx;
                Store(v0, v, at, live, lanes);
                Store(v1, v, at + planeStride, live, lanes);
                Store(v2, v, at + 2 * planeStride, live, lanes);
                Store(v3, v, at + 3 * planeStride, live, lanes);
                Store(v4, v, at + 4 * planeStride, live, lanes);
                Store(v5, v, at + 5 * planeStride, live, lanes);
            }
        }
    }

    /// <summary>Bᵀ·(d0 … d5).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector<T>, Vector<T>, Vector<T>, Vector<T>, Vector<T>, Vector<T>) Transform<T>(Vector<T> d0, Vector<T> d1, Vector<T> d2,
        Vector<T> d3, Vector<T> d4, Vector<T> d5) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (two, four, five) = (new Vector<T>(T.CreateTruncating(2)), new Vector<T>(T.CreateTruncating(4)), new Vector<T>(T.CreateTruncating(5)));
        var (a, b) = (d4 - four * d2, d3 - four * d1);
        var (c, d) = (d4 - d2, two * (d3 - d1));
        return (four * d0 - five * d2 + d4, a + b, a - b, c + d, c - d, four * d1 - five * d3 + d5);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Outputs<T>(T[] m, T[] rows, int count, int offset, int planeStride) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<Vector<T>> s = stackalloc Vector<T>[24]; // s[6a + j] = (Aᵀ·M)[a][j]
        Span<T> lanes = stackalloc T[Vector<T>.Count];
        for (var tx = 0; tx < count; tx += Vector<T>.Count)
        {
            var live = Math.Min(Vector<T>.Count, count - tx);
            for (var j = 0; j < 6; j++)
            {
                var at = j * planeStride + offset + tx;
                var p = 6 * planeStride;
                (s[j], s[6 + j], s[12 + j], s[18 + j]) =
                    Reduce(Load(m, at), Load(m, at + p), Load(m, at + 2 * p), Load(m, at + 3 * p), Load(m, at + 4 * p), Load(m, at + 5 * p));
            }
            for (var a = 0; a < 4; a++)
            {
                var (y0, y1, y2, y3) = Reduce(s[6 * a], s[6 * a + 1], s[6 * a + 2], s[6 * a + 3], s[6 * a + 4], s[6 * a + 5]);
                var at = 4 * a * count + tx;
                Store(y0, rows, at, live, lanes);
                Store(y1, rows, at + count, live, lanes);
                Store(y2, rows, at + 2 * count, live, lanes);
                Store(y3, rows, at + 3 * count, live, lanes);
            }
        }
    }

    /// <summary>Aᵀ·(m0 … m5).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector<T>, Vector<T>, Vector<T>, Vector<T>) Reduce<T>(Vector<T> m0, Vector<T> m1, Vector<T> m2, Vector<T> m3, Vector<T> m4,
        Vector<T> m5) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (two, four, eight) = (new Vector<T>(T.CreateTruncating(2)), new Vector<T>(T.CreateTruncating(4)), new Vector<T>(T.CreateTruncating(8)));
        var (a, b) = (m1 + m2, m1 - m2);
        var (c, d) = (m3 + m4, m3 - m4);
        return (m0 + a + c, b + two * d, a + four * c, b + eight * d + m5);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Expand<T>(T[] y, T[] e, int count, int offset, int planeStride) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<Vector<T>> r = stackalloc Vector<T>[24]; // r[6a + ξ] = (y·Aᵀ)[a][ξ]
        Span<T> lanes = stackalloc T[Vector<T>.Count];
        for (var tx = 0; tx < count; tx += Vector<T>.Count)
        {
            var live = Math.Min(Vector<T>.Count, count - tx);
            for (var a = 0; a < 4; a++)
            {
                var at = 4 * a * count + tx;
                (r[6 * a], r[6 * a + 1], r[6 * a + 2], r[6 * a + 3], r[6 * a + 4], r[6 * a + 5]) =
                    Spread(Load(y, at), Load(y, at + count), Load(y, at + 2 * count), Load(y, at + 3 * count));
            }
            for (var j = 0; j < 6; j++)
            {
                var (e0, e1, e2, e3, e4, e5) = Spread(r[j], r[6 + j], r[12 + j], r[18 + j]);
                var at = j * planeStride + offset + tx;
                var p = 6 * planeStride;
                Store(e0, e, at, live, lanes);
                Store(e1, e, at + p, live, lanes);
                Store(e2, e, at + 2 * p, live, lanes);
                Store(e3, e, at + 3 * p, live, lanes);
                Store(e4, e, at + 4 * p, live, lanes);
                Store(e5, e, at + 5 * p, live, lanes);
            }
        }
    }

    /// <summary>A·(y0 … y3), A = Aᵀ transposed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector<T>, Vector<T>, Vector<T>, Vector<T>, Vector<T>, Vector<T>) Spread<T>(Vector<T> y0, Vector<T> y1, Vector<T> y2, Vector<T> y3)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (two, four, eight) = (new Vector<T>(T.CreateTruncating(2)), new Vector<T>(T.CreateTruncating(4)), new Vector<T>(T.CreateTruncating(8)));
        var (even, odd) = (y0 + y2, y1 + y3);
        var (even2, odd2) = (y0 + four * y2, two * y1 + eight * y3);
        return (y0, even + odd, even - odd, even2 + odd2, even2 - odd2, y3);
    }

    /// <summary>Gᵀ down the columns, then along the rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Reduce<T>(T[] du, int at, int planeStride, Span<Vector<T>> taps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<Vector<T>> t = stackalloc Vector<T>[18]; // t[6p + j] = (Gᵀ·∂U)[p][j]
        for (var j = 0; j < 6; j++)
        {
            var s = 6 * planeStride;
            var from = at + j * planeStride;
            (t[j], t[6 + j], t[12 + j]) = Gather(Load(du, from), Load(du, from + s), Load(du, from + 2 * s), Load(du, from + 3 * s),
                Load(du, from + 4 * s), Load(du, from + 5 * s));
        }
        for (var p = 0; p < 3; p++)
            (taps[3 * p], taps[3 * p + 1], taps[3 * p + 2]) = Gather(t[6 * p], t[6 * p + 1], t[6 * p + 2], t[6 * p + 3], t[6 * p + 4], t[6 * p + 5]);
    }

    /// <summary>Gᵀ·(u0 … u5).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector<T>, Vector<T>, Vector<T>) Gather<T>(Vector<T> u0, Vector<T> u1, Vector<T> u2, Vector<T> u3, Vector<T> u4, Vector<T> u5)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var quarter = new Vector<T>(T.CreateTruncating(0.25));
        var sixth = new Vector<T>(T.One / T.CreateTruncating(6));
        var twelfth = new Vector<T>(T.One / T.CreateTruncating(12));
        var twentyFourth = new Vector<T>(T.One / T.CreateTruncating(24));
        var (outer, inner) = (u1 + u2, u3 + u4);
        return (quarter * u0 - sixth * outer + twentyFourth * inner, sixth * (u2 - u1) + twelfth * (u3 - u4), sixth * (inner - outer) + u5);
    }
}
