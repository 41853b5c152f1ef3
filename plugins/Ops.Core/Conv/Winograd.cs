using System.Numerics;

namespace Backprop.Plugins.Core;

/// <summary>
/// 3×3, stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin and Gray, 2016): every 4×4 input tile
/// d and filter g are transformed (V = Bᵀ·d·B, U = G·g·Gᵀ), the 16 transformed positions become 16 GEMMs over channels,
/// M[ξ] = U[ξ]·V[ξ], and each 2×2 output tile is Aᵀ·m·A. 16 multiplications per output tile and channel pair instead of
/// 36, so 2.25× less GEMM arithmetic; the transforms are additions only, computed for a whole row of tiles at once with
/// SIMD vectors. Used for the forward convolution when the tiles are numerous enough to keep the 16 GEMMs efficient.
/// </summary>
internal static class Winograd
{
    private const int Budget = 1 << 21; // elements of the V (and M) scratch per sample chunk

    /// <summary>False when BACKPROP_WINOGRAD=0 (every convolution then goes through im2col).</summary>
    private static readonly bool Enabled = Environment.GetEnvironmentVariable("BACKPROP_WINOGRAD") != "0";

    /// <summary>
    /// True for a 2-D, 3×3, stride-1, undilated, ungrouped convolution with at least 16 channels each way and 40 output tiles
    /// (measured here: ResNet18 at batch 1 gains from 14² outputs up, not at 7², where the 16 products are too narrow).
    /// </summary>
    public static bool Applies(ConvGeometry g) =>
        Enabled && g is { SpatialRank: 2, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, Group: 1 } && g.C >= 16 && g.M >= 16
        && Tiles(g) >= 40;

    /// <summary>Output tiles of 2×2 over all samples.</summary>
    public static long Tiles(ConvGeometry g) => (long)g.N * ((g.OH + 1) / 2) * ((g.OW + 1) / 2);

    /// <summary>
    /// The geometry of a 3×3 stride-1 convolution's input gradient seen as a forward convolution of dY (pads 2 − p) with
    /// the filters of <see cref="Flip{T}"/>; null for other convolutions.
    /// </summary>
    public static ConvGeometry? Transposed(ConvGeometry g)
    {
        if (g is not { SpatialRank: 2, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, Group: 1 } || g.PH > 2 || g.PW > 2 || g.PHEnd > 2 || g.PWEnd > 2) return null;
        return new ConvGeometry(g.N, g.M, g.OH, g.OW, g.C, 3, 3, g.H, g.W, 1, 1, 2 - g.PH, 2 - g.PW, 1, 1, 1, 2, 2 - g.PHEnd, 2 - g.PWEnd);
    }

    /// <summary>
    /// W′[c, k, i, j] = W[k, c, 2 − i, 2 − j]: the filters of <see cref="Transposed"/>. A transpose of 9-element blocks, done
    /// in 16 × 16 tiles of blocks (a straight loop wrote each block to a new cache line: ~4 ms for 512 × 512 filters), output
    /// channels split across cores.
    /// </summary>
    public static unsafe Tensor Flip<T>(Tensor w, ConvGeometry g) where T : unmanaged
    {
        const int tile = 16;
        var flipped = Tensor.Empty(new Shape(g.C, g.M, 3, 3), w.DType);
        var (m, c) = (g.M, g.C);
        fixed (T* ps = w.Span<T>(), pd = flipped.Span<T>())
        {
            var (src, dst) = ((nint)ps, (nint)pd);
            var tiles = (c + tile - 1) / tile;
            KernelThreads.ForRanges(tiles, (long)m * c >= 1 << 14 ? KernelThreads.Threads : 1, (first, last) =>
            {
                for (var c0 = first * tile; c0 < Math.Min(c, last * tile); c0 += tile)
                for (var k0 = 0; k0 < m; k0 += tile)
                for (var ci = c0; ci < Math.Min(c, c0 + tile); ci++)
                for (var k = k0; k < Math.Min(m, k0 + tile); k++)
                {
                    var from = (T*)src + ((long)k * c + ci) * 9;
                    var to = (T*)dst + ((long)ci * m + k) * 9;
                    for (var tap = 0; tap < 9; tap++) to[tap] = from[8 - tap];
                }
            });
        }
        return flipped;
    }

    public static void Forward<T>(IGemmRouter router, IKernelProvider kernels, ConvGeometry g, Tensor x, Tensor w, Tensor y, ConvEpilogue? epilogue)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (th, tw) = ((g.OH + 1) / 2, (g.OW + 1) / 2);
        var tiles = th * tw;
        var chunk = (int)Math.Clamp(Budget / (16L * Math.Max(g.C, g.M) * tiles), 1, g.N);
        var parts = KernelThreads.Threads;
        var dtype = DTypeExtensions.Of<T>();
        // Split the work between the cores so that each produces, from its own transforms, everything it later reads:
        // by bands of tile rows while the tiles outnumber the output channels (each core then transforms its own band of
        // the input and, small next to it, all the filters), else by output channels (each core then transforms its share of the filters and the whole, small,
        // input itself). The assignment is the same every call. Measured here: a hand-off of a cache line between the two
        // virtual CPUs takes 42 or 170 ns depending on where the host places them; with each phase split across the cores
        // instead, ResNet18's 3×3 convolutions ran 1.6× slower in the slow placement.
        var byBands = (long)chunk * tiles >= g.M;
        var share = ((g.M + parts - 1) / parts + MicroKernel.MR - 1) / MicroKernel.MR * MicroKernel.MR;
        var split = byBands ? router.Select(kernels, false, false, g.M, Math.Max(1, chunk * th / parts) * tw, g.C, dtype)
            : router.Select(kernels, false, false, share, chunk * tiles, g.C, dtype);
        if (parts > 1 && split is PackedGemm && (byBands ? chunk * th >= parts : g.M > share))
        {
            KernelThreads.ForEachThread(part =>
            {
                if (byBands) Part<T>(split, g, x, w, y, epilogue, part, parts, 0, g.M, chunk, th, tw);
                else Part<T>(split, g, x, w, y, epilogue, 0, 1, Math.Min(g.M, part * share), Math.Min(g.M, (part + 1) * share), chunk, th, tw);
            });
            return;
        }
        var gemm = router.Select(kernels, false, false, g.M, chunk * tiles, g.C, dtype);
        Part<T>(gemm, g, x, w, y, epilogue, 0, 1, 0, g.M, chunk, th, tw);
    }

    /// <summary>
    /// Output channels [k0, k1) over band <paramref name="band"/> of <paramref name="bands"/> of each chunk's tile rows
    /// (row r of a chunk is tile row r mod th of its sample r / th): filter transform, then per chunk the input transform,
    /// the 16 products and the output transform with the epilogue. Nested in a core's share everything runs on that core;
    /// called for all the work, each step splits itself across the cores.
    /// </summary>
    private static void Part<T>(IGemm gemm, ConvGeometry g, Tensor x, Tensor w, Tensor y, ConvEpilogue? epilogue, int band, int bands,
        int k0, int k1, int chunk, int th, int tw) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var mk = k1 - k0;
        if (mk <= 0) return;
        var u = Scratch<T>.Get(2, 16 * mk * g.C);
        Filters(w, u, g, k0, k1);
        for (var n0 = 0; n0 < g.N; n0 += chunk)
        {
            var units = Math.Min(chunk, g.N - n0) * th;
            var (u0, u1) = ((int)((long)units * band / bands), (int)((long)units * (band + 1) / bands));
            if (u0 == u1) continue;
            var width = (u1 - u0) * tw;
            var v = Scratch<T>.Get(3, 16 * g.C * width);
            var m = Scratch<T>.Get(4, 16 * mk * width);
            Inputs(x, v, g, n0, u0, u1, th, tw);
            // Sixteen independent products: for all the work the managed kernel runs them side by side, one per core;
            // another backend keeps its own threading.
            KernelThreads.For(16, gemm is PackedGemm ? Environment.ProcessorCount : 1, xi =>
                ConvKernels.Call<T>(gemm, false, false, mk, width, g.C, u.AsSpan(xi * mk * g.C, mk * g.C), g.C,
                    v.AsSpan(xi * g.C * width, g.C * width), width, T.Zero, m.AsSpan(xi * mk * width, mk * width), width));
            Outputs(m, y, g, n0, u0, u1, th, tw, epilogue, k0, k1);
        }
    }

    /// <summary>U[ξ][k − k0][c] = (G·g·Gᵀ)[ξ] for every filter g = W[k, c], k in [k0, k1); for each k the nine taps are gathered over c first.</summary>
    private static void Filters<T>(Tensor w, T[] u, ConvGeometry g, int k0, int k1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (channels, kc) = (g.C, (k1 - k0) * g.C);
        KernelThreads.ForRanges(k1 - k0, kc >= 4096 ? Environment.ProcessorCount : 1, (first, last) =>
        {
            ReadOnlySpan<T> src = w.Span<T>();
            var taps = new T[9 * channels];
            for (var k = k0 + first; k < k0 + last; k++)
            {
                for (var c = 0; c < channels; c++)
                for (var tap = 0; tap < 9; tap++) taps[tap * channels + c] = src[(k * channels + c) * 9 + tap];
                FilterRow(taps, u, channels, (k - k0) * channels, kc);
            }
        });
    }

    /// <summary>The 16 transformed filters of one output channel from its taps[tap][c], vectorised over c.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void FilterRow<T>(T[] taps, T[] u, int channels, int offset, int planeStride) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var half = new Vector<T>(T.CreateTruncating(0.5));
        var c = 0;
        Span<Vector<T>> f = stackalloc Vector<T>[9];
        Span<Vector<T>> t = stackalloc Vector<T>[12];
        for (; c < channels; c += Vector<T>.Count)
        {
            // The last step overlaps the one before (recomputing some channels) when the count is not a multiple of the width.
            c = Math.Min(c, channels - Vector<T>.Count);
            for (var tap = 0; tap < 9; tap++) f[tap] = Load(taps, tap * channels + c);
            for (var j = 0; j < 3; j++)
            {
                (t[j], t[3 + j]) = (f[j], half * (f[j] + f[3 + j] + f[6 + j]));
                (t[6 + j], t[9 + j]) = (half * (f[j] - f[3 + j] + f[6 + j]), f[6 + j]);
            }
            for (var i = 0; i < 4; i++)
            {
                var (a, b, e) = (t[3 * i], t[3 * i + 1], t[3 * i + 2]);
                var at = 4 * i * planeStride + offset + c;
                a.CopyTo(u, at);
                (half * (a + b + e)).CopyTo(u, at + planeStride);
                (half * (a - b + e)).CopyTo(u, at + 2 * planeStride);
                e.CopyTo(u, at + 3 * planeStride);
            }
            if (c + Vector<T>.Count >= channels) break;
        }
    }

    /// <summary>V[ξ][c][t] = (Bᵀ·d·B)[ξ] for every 4×4 input tile d (zero outside the image) in tile rows [u0, u1), one run of tile rows at a time.</summary>
    internal static void Inputs<T>(Tensor x, T[] v, ConvGeometry g, int n0, int u0, int u1, int th, int tw) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var width = (u1 - u0) * tw;
        var planeStride = g.C * width; // distance between ξ planes of V
        var segments = new RowSpans(u0, u1, th);
        KernelThreads.ForRanges(g.C, Environment.ProcessorCount, (first, last) =>
        {
            ReadOnlySpan<T> src = x.Span<T>();
            var padded = new T[2 * tw + 2];
            var e = new T[16 * th * tw]; // e[(row·4 + j)·tiles + t] = row `row`, column j of tile t
            for (var c = first; c < last; c++)
            {
                foreach (var (n, ty0, ty1, before) in segments)
                {
                    var plane = src.Slice(((n0 + n) * g.C + c) * g.H * g.W, g.H * g.W);
                    var tiles = (ty1 - ty0) * tw;
                    for (var ty = ty0; ty < ty1; ty++)
                    {
                        for (var row = 0; row < 4; row++)
                        {
                            var ih = 2 * ty - g.PH + row;
                            Array.Clear(padded);
                            if ((uint)ih < (uint)g.H)
                            {
                                // padded[q] holds input column q − PW
                                var lo = Math.Max(0, g.PW);
                                var from = Math.Max(0, -g.PW);
                                var length = Math.Min(g.W - from, padded.Length - lo);
                                if (length > 0) plane.Slice(ih * g.W + from, length).CopyTo(padded.AsSpan(lo));
                            }
                            for (var j = 0; j < 4; j++) EveryOther.Gather(padded.AsSpan(j), e.AsSpan((row * 4 + j) * tiles + (ty - ty0) * tw, tw));
                        }
                    }
                    Combine(e, v, tiles, c * width + before * tw, planeStride);
                }
            }
        });
    }

    /// <summary>The 16 transformed values of <paramref name="tw"/> tiles from their gathered rows e (Bᵀ on rows, B on columns).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Combine<T>(T[] e, T[] v, int tw, int offset, int planeStride) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var step = Vector<T>.Count;
        var tx = 0;
        Span<Vector<T>> r = stackalloc Vector<T>[16];
        Span<T> scalar = stackalloc T[16];
        for (; tx + step <= tw; tx += step)
        {
            for (var row = 0; row < 4; row++)
            {
                var (e0, e1, e2, e3) = (Load(e, (row * 4) * tw + tx), Load(e, (row * 4 + 1) * tw + tx), Load(e, (row * 4 + 2) * tw + tx), Load(e, (row * 4 + 3) * tw + tx));
                (r[row * 4], r[row * 4 + 1], r[row * 4 + 2], r[row * 4 + 3]) = (e0 - e2, e1 + e2, e2 - e1, e1 - e3);
            }
            for (var j = 0; j < 4; j++)
            {
                var (d0, d1, d2, d3) = (r[j], r[4 + j], r[8 + j], r[12 + j]);
                (d0 - d2).CopyTo(v, j * planeStride + offset + tx);
                (d1 + d2).CopyTo(v, (4 + j) * planeStride + offset + tx);
                (d2 - d1).CopyTo(v, (8 + j) * planeStride + offset + tx);
                (d1 - d3).CopyTo(v, (12 + j) * planeStride + offset + tx);
            }
        }
        for (; tx < tw; tx++)
        {
            for (var row = 0; row < 4; row++)
            {
                var (e0, e1, e2, e3) = (e[(row * 4) * tw + tx], e[(row * 4 + 1) * tw + tx], e[(row * 4 + 2) * tw + tx], e[(row * 4 + 3) * tw + tx]);
                (scalar[row * 4], scalar[row * 4 + 1], scalar[row * 4 + 2], scalar[row * 4 + 3]) = (e0 - e2, e1 + e2, e2 - e1, e1 - e3);
            }
            for (var j = 0; j < 4; j++)
            {
                var (d0, d1, d2, d3) = (scalar[j], scalar[4 + j], scalar[8 + j], scalar[12 + j]);
                v[j * planeStride + offset + tx] = d0 - d2;
                v[(4 + j) * planeStride + offset + tx] = d1 + d2;
                v[(8 + j) * planeStride + offset + tx] = d2 - d1;
                v[(12 + j) * planeStride + offset + tx] = d1 - d3;
            }
        }
    }

    private static Vector<T> Load<T>(T[] a, int at) where T : unmanaged => new(a.AsSpan(at, Vector<T>.Count));

    /// <summary>
    /// Y tiles = Aᵀ·m·A from the 16 GEMM products for tile rows [u0, u1) and output channels [k0, k1), written into Y's
    /// planes, then the epilogue on each finished run of rows.
    /// </summary>
    private static void Outputs<T>(T[] m, Tensor y, ConvGeometry g, int n0, int u0, int u1, int th, int tw, ConvEpilogue? epilogue, int k0, int k1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var width = (u1 - u0) * tw;
        var planeStride = (k1 - k0) * width;
        var segments = new RowSpans(u0, u1, th);
        KernelThreads.ForRanges(k1 - k0, Environment.ProcessorCount, (first, last) =>
        {
            var dst = y.Span<T>();
            var rows = new T[4 * th * tw]; // rows[(2a + b)·tiles + t] = output (a, b) of tile t
            for (var k = k0 + first; k < k0 + last; k++)
            {
                foreach (var (n, ty0, ty1, before) in segments)
                {
                    var tiles = (ty1 - ty0) * tw;
                    var offset = ((n0 + n) * g.M + k) * g.P;
                    var plane = dst.Slice(offset, g.P);
                    Separate(m, rows, tiles, (k - k0) * width + before * tw, planeStride);
                    for (var ty = ty0; ty < ty1; ty++)
                    {
                        for (var a = 0; a < 2 && 2 * ty + a < g.OH; a++)
                        {
                            var line = plane.Slice((2 * ty + a) * g.OW, g.OW);
                            var at = (ty - ty0) * tw;
                            ReadOnlySpan<T> even = rows.AsSpan(2 * a * tiles + at, tw), odd = rows.AsSpan((2 * a + 1) * tiles + at, tw);
                            for (var tx = 0; tx < tw; tx++)
                            {
                                line[2 * tx] = even[tx];
                                if (2 * tx + 1 < g.OW) line[2 * tx + 1] = odd[tx];
                            }
                        }
                    }
                    if (epilogue is null) continue;
                    var (r0, r1) = (2 * ty0 * g.OW, Math.Min(2 * ty1, g.OH) * g.OW);
                    var done = plane[r0..r1];
                    epilogue.Apply<T>(done, done, k, offset + r0);
                }
            }
        });
    }

    /// <summary>The 2×2 outputs of <paramref name="tw"/> tiles: rows[(2a + b)·tw + t] = (Aᵀ·m·A)[a, b] of tile t.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Separate<T>(T[] m, T[] rows, int tw, int offset, int planeStride) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var step = Vector<T>.Count;
        var tx = 0;
        Span<Vector<T>> s = stackalloc Vector<T>[8];
        Span<T> scalar = stackalloc T[8];
        for (; tx + step <= tw; tx += step)
        {
            for (var j = 0; j < 4; j++)
            {
                var (m0, m1, m2, m3) = (Load(m, j * planeStride + offset + tx), Load(m, (4 + j) * planeStride + offset + tx),
                    Load(m, (8 + j) * planeStride + offset + tx), Load(m, (12 + j) * planeStride + offset + tx));
                (s[j], s[4 + j]) = (m0 + m1 + m2, m1 - m2 - m3);
            }
            for (var a = 0; a < 2; a++)
            {
                var (s0, s1, s2, s3) = (s[4 * a], s[4 * a + 1], s[4 * a + 2], s[4 * a + 3]);
                (s0 + s1 + s2).CopyTo(rows, 2 * a * tw + tx);
                (s1 - s2 - s3).CopyTo(rows, (2 * a + 1) * tw + tx);
            }
        }
        for (; tx < tw; tx++)
        {
            for (var j = 0; j < 4; j++)
            {
                var (m0, m1, m2, m3) = (m[j * planeStride + offset + tx], m[(4 + j) * planeStride + offset + tx],
                    m[(8 + j) * planeStride + offset + tx], m[(12 + j) * planeStride + offset + tx]);
                (scalar[j], scalar[4 + j]) = (m0 + m1 + m2, m1 - m2 - m3);
            }
            for (var a = 0; a < 2; a++)
            {
                rows[2 * a * tw + tx] = scalar[4 * a] + scalar[4 * a + 1] + scalar[4 * a + 2];
                rows[(2 * a + 1) * tw + tx] = scalar[4 * a + 1] - scalar[4 * a + 2] - scalar[4 * a + 3];
            }
        }
    }
}
