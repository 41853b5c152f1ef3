using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Plugins.Core;

/// <summary>
/// F(4×4, 3×3)'s input and output transforms for float32 on AVX-512, a whole tile row (up to 16 tiles, one per lane) at
/// a time with the tiles' columns picked out of the image rows in registers: each padded input row's six tile columns
/// are four stride-4 phases of its first 64 elements and two of them shifted by a tile; each output row is the
/// interleave of its four tile columns. The generic path (<see cref="Winograd.Inputs{T, S}"/>) gathers each of the 36
/// columns of a tile row into memory through a call of its own and scatters outputs an element at a time, which cost
/// ResNet's 56² and 28² layers more than their products. Same arithmetic as <see cref="WinogradF4"/>, in the same order.
/// </summary>
internal static unsafe class WinogradF4Rows
{
    /// <summary>Elements per padded input row: the 16 tiles' 6 columns reach element 65; loads read up to 80.</summary>
    public const int Pitch = 80;

    /// <summary>Tile rows whose tiles fit one vector and whose padded input rows fit <see cref="Pitch"/>.</summary>
    public static bool Applies<T>(ConvGeometry g) => typeof(T) == typeof(float) && Avx512F.IsSupported && Enabled
        && (g.OW + 3) / 4 <= 16 && g.W + Math.Max(0, g.PW) <= Pitch;

    private static readonly bool Enabled = Environment.GetEnvironmentVariable("BACKPROP_WINOGRAD_ROWS") != "0";

    /// <summary>
    /// Whether <see cref="Filters"/> serves float32 filters (any geometry: it transforms filters, not rows). The only path
    /// that reads an input gradient's filters in place, so it does not follow BACKPROP_WINOGRAD_ROWS.
    /// </summary>
    public static bool FiltersApply<T>() => typeof(T) == typeof(float) && Avx2.IsSupported && Vector512.IsHardwareAccelerated;

    private static readonly Vector512<int> Quarter = Vector512.Create(0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28);
    private static readonly Vector512<int> Join = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
    private static readonly Vector512<int> Next0 = Vector512.Create(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
    private static readonly Vector512<int> Next1 = Vector512.Create(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17);
    private static readonly Vector512<int> PairLo = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    private static readonly Vector512<int> PairHi = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    private static readonly Vector512<int> QuadLo = Vector512.Create(0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
    private static readonly Vector512<int> QuadHi = Vector512.Create(8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);

    /// <summary>
    /// <see cref="Winograd.Inputs{T, S}"/> for F(4×4): each run of a plane's input rows copied once into zero-padded
    /// rows, then transformed a tile row at a time; V's rows are <paramref name="width"/> apart, its planes
    /// <paramref name="planeStride"/>.
    /// </summary>
    public static void Inputs(Tensor x, float[] v, ConvGeometry g, int n0, int u0, int u1, int th, int tw, int width, long planeStride)
    {
        const int pitch = Pitch;
        var segments = new RowSpans(u0, u1, th);
        var (lo, from) = (Math.Max(0, g.PW), Math.Max(0, -g.PW));
        var length = Math.Max(0, Math.Min(g.W - from, pitch - lo));
        fixed (float* px = x.Span<float>(), pv = v)
        {
            var (ax, av) = ((nint)px, (nint)pv);
            KernelThreads.ForRanges(g.C, Environment.ProcessorCount, (first, last) =>
            {
                var padded = new float[(4 * th + 2) * pitch];
                fixed (float* pp = padded)
                {
                    for (var c = first; c < last; c++)
                    {
                        foreach (var (n, ty0, ty1, before) in segments)
                        {
                            var plane = (float*)ax + ((long)(n0 + n) * g.C + c) * g.H * g.W;
                            var rows = 4 * (ty1 - ty0) + 2;
                            new Span<float>(pp, rows * pitch).Clear();
                            for (var r = 0; r < rows; r++)
                            {
                                var ih = 4 * ty0 - g.PH + r;
                                if ((uint)ih < (uint)g.H && length > 0)
                                    new ReadOnlySpan<float>(plane + ih * g.W + from, length).CopyTo(new Span<float>(pp + r * pitch + lo, length));
                            }
                            var to = (float*)av + (long)c * width + (long)before * tw;
                            for (var ty = ty0; ty < ty1; ty++)
                                InputRow(pp + 4 * (ty - ty0) * pitch, to + (ty - ty0) * tw, planeStride, tw);
                        }
                    }
                }
            });
        }
    }

    /// <summary>
    /// <see cref="Winograd.Outputs{T, S}"/> for F(4×4): a tile row at a time straight into Y's rows, then the epilogue on
    /// each finished run of rows.
    /// </summary>
    public static void Outputs(float[] m, Tensor y, ConvGeometry g, int n0, int u0, int u1, int th, int tw, ConvEpilogue? epilogue,
        int k0, int k1, int width, long planeStride)
    {
        var segments = new RowSpans(u0, u1, th);
        fixed (float* pm = m, py = y.Span<float>())
        {
            var (am, ay) = ((nint)pm, (nint)py);
            KernelThreads.ForRanges(k1 - k0, Environment.ProcessorCount, (first, last) =>
            {
                for (var k = k0 + first; k < k0 + last; k++)
                {
                    foreach (var (n, ty0, ty1, before) in segments)
                    {
                        var offset = ((long)(n0 + n) * g.M + k) * g.P;
                        var src = (float*)am + (long)(k - k0) * width + (long)before * tw;
                        for (var ty = ty0; ty < ty1; ty++)
                            OutputRow(src + (ty - ty0) * tw, planeStride, (float*)ay + offset + 4 * ty * g.OW, g.OW, Math.Min(4, g.OH - 4 * ty));
                        if (epilogue is null) continue;
                        var (r0, r1) = (4 * ty0 * g.OW, Math.Min(4 * ty1, g.OH) * g.OW);
                        var done = new Span<float>((float*)ay + offset + r0, r1 - r0);
                        epilogue.Apply<float>(done, done, k, (int)offset + r0);
                    }
                }
            });
        }
    }

    /// <summary>
    /// <see cref="Winograd"/>'s filter transform for F(4×4) on float32: U[ξ·planeStride + (k − k0)·C + c] = (G·g·Gᵀ)[ξ]
    /// for filters k in [k0, k1) and all C = <paramref name="channels"/> channels, where tap t of filter (k, c) is
    /// w[k·kStride + c·cStride + t] (or tap 8 − t when <paramref name="flip"/>): 16 channels' taps gathered straight into
    /// vectors. With kStride = 9, cStride = 9·K and a flip, that is the input gradient's filters (W[c, k] turned by 180°)
    /// read in place, without <see cref="Winograd.Flip{T}"/>'s copy.
    /// </summary>
    public static void Filters(Tensor w, float[] u, int channels, int k0, int k1, int planeStride, int kStride, int cStride, bool flip)
    {
        fixed (float* pw = w.Span<float>(), pu = u)
        {
            var (aw, au) = ((nint)pw, (nint)pu);
            var index = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * cStride;
            KernelThreads.ForRanges(k1 - k0, (k1 - k0) * channels >= 4096 ? Environment.ProcessorCount : 1, (first, last) =>
            {
                var g = stackalloc Vector512<float>[9];
                var t = stackalloc Vector512<float>[18]; // t[3ξ + j] = (G·g)[ξ][j]
                for (var k = k0 + first; k < k0 + last; k++)
                {
                    for (var c = 0; c < channels; c += 16)
                    {
                        // The last step overlaps the one before when C is not a multiple of 16 (C ≥ 16).
                        c = Math.Min(c, channels - 16);
                        var from = (float*)aw + (long)k * kStride + (long)c * cStride;
                        for (var tap = 0; tap < 9; tap++)
                        {
                            var at = from + (flip ? 8 - tap : tap);
                            g[tap] = Vector512.Create(Avx2.GatherVector256(at, index, 4), Avx2.GatherVector256(at + 8L * cStride, index, 4));
                        }
                        for (var j = 0; j < 3; j++)
                            (t[j], t[3 + j], t[6 + j], t[9 + j], t[12 + j], t[15 + j]) = Column(g[j], g[3 + j], g[6 + j]);
                        var to = (float*)au + (long)(k - k0) * channels + c;
                        for (var xi = 0; xi < 6; xi++)
                        {
                            var (u0, u1, u2, u3, u4, u5) = Column(t[3 * xi], t[3 * xi + 1], t[3 * xi + 2]);
                            var at = to + 6L * xi * planeStride;
                            u0.Store(at);
                            u1.Store(at + planeStride);
                            u2.Store(at + 2L * planeStride);
                            u3.Store(at + 3L * planeStride);
                            u4.Store(at + 4L * planeStride);
                            u5.Store(at + 5L * planeStride);
                        }
                        if (c + 16 >= channels) break;
                    }
                }
            });
        }
    }

    /// <summary>G·(g0, g1, g2), as <see cref="WinogradF4"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) Column(
        Vector512<float> g0, Vector512<float> g1, Vector512<float> g2)
    {
        var (quarter, sixth) = (Vector512.Create(0.25f), Vector512.Create(1f / 6));
        var (twelfth, twentyFourth) = (Vector512.Create(1f / 12), Vector512.Create(1f / 24));
        var outer = g0 + g2;
        var (p, q) = (twentyFourth * g0 + sixth * g2, twelfth * g1);
        return (quarter * g0, -sixth * (outer + g1), sixth * (g1 - outer), p + q, p - q, g2);
    }

    /// <summary>
    /// v[ξ·planeStride + t] = (Bᵀ·d·B)[ξ] for the <paramref name="tiles"/> tiles of a tile row, whose six input rows
    /// start at <paramref name="rows"/> (<see cref="Pitch"/> apart, element q = input column q − PW, zero outside the
    /// image, readable to element 80). Writes only the tiles' lanes.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InputRow(float* rows, float* v, long planeStride, int tiles)
    {
        var t = stackalloc Vector512<float>[36]; // t[6i + j] = (d·B)[i][j]
        for (var i = 0; i < 6; i++)
        {
            var p = rows + i * Pitch;
            var (l0, l1, l2, l3, l4) = (Vector512.Load(p), Vector512.Load(p + 16), Vector512.Load(p + 32), Vector512.Load(p + 48), Vector512.Load(p + 64));
            var d0 = Phase(l0, l1, l2, l3, 0);
            var d1 = Phase(l0, l1, l2, l3, 1);
            var d2 = Phase(l0, l1, l2, l3, 2);
            var d3 = Phase(l0, l1, l2, l3, 3);
            var d4 = Avx512F.PermuteVar16x32x2(d0, Next0, l4);
            var d5 = Avx512F.PermuteVar16x32x2(d1, Next1, l4);
            (t[6 * i], t[6 * i + 1], t[6 * i + 2], t[6 * i + 3], t[6 * i + 4], t[6 * i + 5]) = Transform(d0, d1, d2, d3, d4, d5);
        }
        var mask = Mask(tiles);
        for (var j = 0; j < 6; j++)
        {
            StoreColumn(v + j * planeStride, 6 * planeStride, mask, Transform(t[j], t[6 + j], t[12 + j], t[18 + j], t[24 + j], t[30 + j]));
        }
    }

    /// <summary>
    /// Output rows 0 … <paramref name="live"/> − 1 (at most 4) of a tile row, from the products M[ξ] at
    /// m[ξ·planeStride + t] (readable a vector from there): row a, column 4t + b gets (Aᵀ·M·A)[a, b] of tile t, for columns
    /// below <paramref name="width"/>; rows are <paramref name="width"/> apart from <paramref name="y"/>.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OutputRow(float* m, long planeStride, float* y, int width, int live)
    {
        var s = stackalloc Vector512<float>[24]; // s[6a + j] = (Aᵀ·M)[a][j]
        for (var j = 0; j < 6; j++)
        {
            var at = m + j * planeStride;
            var p = 6 * planeStride;
            (s[j], s[6 + j], s[12 + j], s[18 + j]) = Reduce(Vector512.Load(at), Vector512.Load(at + p), Vector512.Load(at + 2 * p),
                Vector512.Load(at + 3 * p), Vector512.Load(at + 4 * p), Vector512.Load(at + 5 * p));
        }
        for (var a = 0; a < live; a++)
        {
            var (y0, y1, y2, y3) = Reduce(s[6 * a], s[6 * a + 1], s[6 * a + 2], s[6 * a + 3], s[6 * a + 4], s[6 * a + 5]);
            var (lo01, hi01) = (Avx512F.PermuteVar16x32x2(y0, PairLo, y1), Avx512F.PermuteVar16x32x2(y0, PairHi, y1));
            var (lo23, hi23) = (Avx512F.PermuteVar16x32x2(y2, PairLo, y3), Avx512F.PermuteVar16x32x2(y2, PairHi, y3));
            var row = y + (long)a * width;
            Put(row, width, 0, Avx512F.PermuteVar16x32x2(lo01, QuadLo, lo23));
            Put(row, width, 16, Avx512F.PermuteVar16x32x2(lo01, QuadHi, lo23));
            Put(row, width, 32, Avx512F.PermuteVar16x32x2(hi01, QuadLo, hi23));
            Put(row, width, 48, Avx512F.PermuteVar16x32x2(hi01, QuadHi, hi23));
        }
    }

    /// <summary>
    /// <see cref="WinogradWeightGradient"/>'s expansion for F(4×4): e[ξ·planeStride + k·width + (u − u0)·tw + t] =
    /// (A·dYₜ·Aᵀ)[ξ] for filter k and tile t of tile row u (row u mod th of sample u / th), read straight from dY's rows.
    /// </summary>
    public static void Expand(Tensor dy, float[] e, ConvGeometry g, int u0, int u1, int th, int tw, int width, long planeStride)
    {
        fixed (float* pd = dy.Span<float>(), pe = e)
        {
            var (ad, ae) = ((nint)pd, (nint)pe);
            KernelThreads.ForRanges(g.M, Environment.ProcessorCount, (first, last) =>
            {
                for (var k = first; k < last; k++)
                for (var u = u0; u < u1; u++)
                {
                    var (n, ty) = (u / th, u % th);
                    var plane = (float*)ad + ((long)n * g.M + k) * g.P;
                    ExpandRow(plane + 4 * ty * g.OW, g.OW, Math.Min(4, g.OH - 4 * ty), (float*)ae + (long)k * width + (long)(u - u0) * tw, planeStride, tw);
                }
            });
        }
    }

    /// <summary>
    /// e[ξ·planeStride + t] = (A·y·Aᵀ)[ξ] for the tiles of one row of output-gradient tiles: rows 0 … live − 1 of y,
    /// <paramref name="width"/> apart and wide (zero past them). Writes only the tiles' lanes.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ExpandRow(float* y, int width, int live, float* e, long planeStride, int tiles)
    {
        var r = stackalloc Vector512<float>[24]; // r[6a + j] = (y·Aᵀ)[a][j]
        var (m0, m1, m2, m3) = (Mask(width), Mask(width - 16), Mask(width - 32), Mask(width - 48));
        for (var a = 0; a < 4; a++)
        {
            Vector512<float> y0 = default, y1 = default, y2 = default, y3 = default;
            if (a < live)
            {
                var p = y + (long)a * width;
                var (l0, l1, l2, l3) = (Avx512F.MaskLoad(p, m0, default), Avx512F.MaskLoad(p + 16, m1, default),
                    Avx512F.MaskLoad(p + 32, m2, default), Avx512F.MaskLoad(p + 48, m3, default));
                (y0, y1, y2, y3) = (Phase(l0, l1, l2, l3, 0), Phase(l0, l1, l2, l3, 1), Phase(l0, l1, l2, l3, 2), Phase(l0, l1, l2, l3, 3));
            }
            (r[6 * a], r[6 * a + 1], r[6 * a + 2], r[6 * a + 3], r[6 * a + 4], r[6 * a + 5]) = Spread(y0, y1, y2, y3);
        }
        var mask = Mask(tiles);
        for (var j = 0; j < 6; j++)
        {
            StoreColumn(e + j * planeStride, 6 * planeStride, mask, Spread(r[j], r[6 + j], r[12 + j], r[18 + j]));
        }
    }

    /// <summary>A·(y0 … y3), as <see cref="WinogradF4"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) Spread(
        Vector512<float> y0, Vector512<float> y1, Vector512<float> y2, Vector512<float> y3)
    {
        var (two, four, eight) = (Vector512.Create(2f), Vector512.Create(4f), Vector512.Create(8f));
        var (even, odd) = (y0 + y2, y1 + y3);
        var (even2, odd2) = (y0 + four * y2, two * y1 + eight * y3);
        return (y0, even + odd, even - odd, even2 + odd2, even2 - odd2, y3);
    }

    /// <summary>The masked lanes of six vectors to at, at + step, … at + 5·step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreColumn(float* at, long step, Vector512<float> mask,
        (Vector512<float> A, Vector512<float> B, Vector512<float> C, Vector512<float> D, Vector512<float> E, Vector512<float> F) v)
    {
        Avx512F.MaskStore(at, mask, v.A);
        Avx512F.MaskStore(at + step, mask, v.B);
        Avx512F.MaskStore(at + 2 * step, mask, v.C);
        Avx512F.MaskStore(at + 3 * step, mask, v.D);
        Avx512F.MaskStore(at + 4 * step, mask, v.E);
        Avx512F.MaskStore(at + 5 * step, mask, v.F);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* row, int width, int at, Vector512<float> value)
    {
        if (at + 16 <= width) value.Store(row + at);
        else if (at < width) Avx512F.MaskStore(row + at, Mask(width - at), value);
    }

    /// <summary>Lanes 0 … n − 1 set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Mask(int n) =>
        Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(n)).AsSingle();

    /// <summary>Elements j, j + 4, … j + 60 of the 64 in l0 … l3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Phase(Vector512<float> l0, Vector512<float> l1, Vector512<float> l2, Vector512<float> l3, int j)
    {
        var index = Quarter + Vector512.Create(j);
        return Avx512F.PermuteVar16x32x2(Avx512F.PermuteVar16x32x2(l0, index, l1), Join, Avx512F.PermuteVar16x32x2(l2, index, l3));
    }

    /// <summary>Bᵀ·(d0 … d5), as <see cref="WinogradF4"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) Transform(
        Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3, Vector512<float> d4, Vector512<float> d5)
    {
        var (two, four, five) = (Vector512.Create(2f), Vector512.Create(4f), Vector512.Create(5f));
        var (a, b) = (d4 - four * d2, d3 - four * d1);
        var (c, d) = (d4 - d2, two * (d3 - d1));
        return (four * d0 - five * d2 + d4, a + b, a - b, c + d, c - d, four * d1 - five * d3 + d5);
    }

    /// <summary>Aᵀ·(m0 … m5), as <see cref="WinogradF4"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) Reduce(Vector512<float> m0, Vector512<float> m1,
        Vector512<float> m2, Vector512<float> m3, Vector512<float> m4, Vector512<float> m5)
    {
        var (two, four, eight) = (Vector512.Create(2f), Vector512.Create(4f), Vector512.Create(8f));
        var (a, b) = (m1 + m2, m1 - m2);
        var (c, d) = (m3 + m4, m3 - m4);
        return (m0 + a + c, b + two * d, a + four * c, b + eight * d + m5);
    }
}
