using System.Numerics;
using System.Runtime.Intrinsics;

namespace Backprop.Plugins.Core;

/// <summary>
/// 3×3, stride-1 convolution by Winograd's minimal filtering (Lavin and Gray, 2016), F(2×2, 3×3) or F(4×4, 3×3)
/// (<see cref="IWinogradScheme"/>): every α × α input tile d and filter g are transformed (V = Bᵀ·d·B, U = G·g·Gᵀ), the
/// α² transformed positions become α² GEMMs over channels, M[ξ] = U[ξ]·V[ξ], and each m × m output tile is Aᵀ·M·A.
/// 16 multiplications per 2×2 tile or 36 per 4×4 tile and channel pair instead of 9 per output: 2.25× or 4× less GEMM
/// arithmetic. The transforms are computed for a whole row of tiles at once with SIMD vectors. Used for the forward
/// convolution (and the input gradient, a forward convolution of dY) when the tiles are numerous enough to keep the
/// products efficient.
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

    /// <summary>
    /// True when F(4×4, 3×3) with <see cref="WinogradF4Rows"/>' transforms and the in-place products serves
    /// <paramref name="g"/> ahead of the direct kernel (<see cref="FlatConv"/>): float32 with AVX-512, output channels in
    /// blocks of 8, tile rows of up to 16 tiles (outputs up to 64 wide) and at least 64 tiles of 4 × 4 in all (fewer, and
    /// transforming the filters outweighs the 4× fewer products: ResNet18's 7² × 512 layers at batch 8 have 32).
    /// Measured against the direct kernel, alternating in one process (forward, batch 8): 56² × 64 channels 3.3 against
    /// 5.0 ms, 28² × 128 3.1 against 5.0–5.3, 14² × 256 3.6–5.7 against 5.0–5.9 (a noisy hour); batch 1 at 56² 0.6 against
    /// 0.9. The input gradients follow. The price is F(4×4)'s float32 rounding (a few 1e-7 of Σ|terms|, see
    /// <see cref="WinogradF4"/>) where the direct kernel's is a dot product's. BACKPROP_WINOGRAD_ROWS=0 turns it off.
    /// </summary>
    public static bool Preferred<T>(ConvGeometry g) => ForcedTile != 2 && Applies(g) && WinogradF4Rows.Applies<T>(g) && DirectProducts<T>(g.M)
        && Tiles4(g) >= 64;

    /// <summary>Output tiles of 2×2 over all samples.</summary>
    public static long Tiles(ConvGeometry g) => (long)g.N * ((g.OH + 1) / 2) * ((g.OW + 1) / 2);

    /// <summary>Output tiles of 4×4 over all samples.</summary>
    public static long Tiles4(ConvGeometry g) => (long)g.N * ((g.OH + 3) / 4) * ((g.OW + 3) / 4);

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

    /// <summary>
    /// Which scheme serves <paramref name="g"/>: F(4×4, 3×3) on output planes from a side of 20 (forward convolutions,
    /// input gradients among them) or 14 (<paramref name="weightGradient"/>), else F(2×2, 3×3). Measured on ResNet18's layers at
    /// batch 8, two threads: the forward at 56² × 64 channels 10.0 → 7.3–8.6 ms and 28² × 128 8.0–8.5 → 5.8–7.8 ms, but
    /// not at 14² × 256 (8.4–9.0 → 8.6–12 ms: a third of its 4 × 4 tiles is padding and its transformed filters, 2.25×
    /// larger, dominate); the input gradient at 14² came out better in one set of runs and worse in another, so it stays
    /// with the forward; the weight gradient (no filter transform) gains at 14² in both (10.6–14.3 → 7.8–9.5 ms), not at
    /// 7² (11.0–12.1 both). BACKPROP_WINOGRAD_TILE=2 or 4 forces one (F(4×4)'s float32 error is larger: see
    /// <see cref="WinogradF4"/>).
    /// </summary>
    public static bool UsesF4(ConvGeometry g, bool weightGradient = false) => ForcedTile switch
    {
        2 => false,
        4 => true,
        _ => Math.Min(g.OH, g.OW) >= (weightGradient ? 14 : 20) && Math.Min(g.C, g.M) >= F4MinChannels,
    };

    private static readonly int ForcedTile = int.TryParse(Environment.GetEnvironmentVariable("BACKPROP_WINOGRAD_TILE"), out var t) ? t : 0;

    private const int F4MinChannels = 16;

    /// <summary>
    /// Y = X ⋆ W. <paramref name="transposed"/> (only where <see cref="Preferred{T}"/>): the filters are those of
    /// <see cref="Flip{T}"/> applied to <paramref name="w"/>, read in place — the input gradient of a forward convolution
    /// whose filters are w.
    /// </summary>
    public static void Forward<T>(IGemmRouter router, IKernelProvider kernels, ConvGeometry g, Tensor x, Tensor w, Tensor y, ConvEpilogue? epilogue,
        bool transposed = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (transposed && !Preferred<T>(g)) throw new InvalidOperationException("Winograd reads transposed filters in place only on its preferred path.");
        if (UsesF4(g) || Preferred<T>(g)) Forward<T, WinogradF4>(router, kernels, g, x, w, y, epilogue, transposed);
        else Forward<T, WinogradF2>(router, kernels, g, x, w, y, epilogue, transposed);
    }

    private static void Forward<T, S>(IGemmRouter router, IKernelProvider kernels, ConvGeometry g, Tensor x, Tensor w, Tensor y, ConvEpilogue? epilogue,
        bool transposed) where T : unmanaged, IFloatingPointIeee754<T> where S : IWinogradScheme
    {
        var (th, tw) = ((g.OH + S.Out - 1) / S.Out, (g.OW + S.Out - 1) / S.Out);
        var tiles = th * tw;
        var positions = S.Alpha * S.Alpha;
        var chunk = (int)Math.Clamp(Budget / ((long)positions * Math.Max(g.C, g.M) * tiles), 1, g.N);
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
        if (parts > 1 && (split is PackedGemm || DirectProducts<T>(g.M)) && (byBands ? chunk * th >= parts : g.M > share))
        {
            KernelThreads.ForEachThread(part =>
            {
                if (byBands) Part<T, S>(split, g, x, w, y, epilogue, transposed, part, parts, 0, g.M, chunk, th, tw);
                else Part<T, S>(split, g, x, w, y, epilogue, transposed, 0, 1, Math.Min(g.M, part * share), Math.Min(g.M, (part + 1) * share), chunk, th, tw);
            });
            return;
        }
        var gemm = router.Select(kernels, false, false, g.M, chunk * tiles, g.C, dtype);
        Part<T, S>(gemm, g, x, w, y, epilogue, transposed, 0, 1, 0, g.M, chunk, th, tw);
    }

    /// <summary>
    /// Output channels [k0, k1) over band <paramref name="band"/> of <paramref name="bands"/> of each chunk's tile rows
    /// (row r of a chunk is tile row r mod th of its sample r / th): filter transform, then per chunk the input transform,
    /// the α² products and the output transform with the epilogue. Nested in a core's share everything runs on that core;
    /// called for all the work, each step splits itself across the cores. The α² planes of U, V and M are
    /// <see cref="Skew"/>ed apart.
    /// </summary>
    private static void Part<T, S>(IGemm gemm, ConvGeometry g, Tensor x, Tensor w, Tensor y, ConvEpilogue? epilogue, bool transposed, int band, int bands,
        int k0, int k1, int chunk, int th, int tw) where T : unmanaged, IFloatingPointIeee754<T> where S : IWinogradScheme
    {
        var mk = k1 - k0;
        if (mk <= 0) return;
        var positions = S.Alpha * S.Alpha;
        var direct = DirectProducts<T>(mk);
        var uStride = Skew(mk * g.C);
        var u = Scratch<T>.Get(2, positions * uStride);
        if (typeof(S) == typeof(WinogradF4) && WinogradF4Rows.FiltersApply<T>())
            WinogradF4Rows.Filters(w, (float[])(object)u, g.C, k0, k1, uStride, transposed ? 9 : 9 * g.C, transposed ? 9 * g.M : 9, transposed);
        else Filters<T, S>(w, u, g, k0, k1, uStride);
        for (var n0 = 0; n0 < g.N; n0 += chunk)
        {
            var units = Math.Min(chunk, g.N - n0) * th;
            var (u0, u1) = ((int)((long)units * band / bands), (int)((long)units * (band + 1) / bands));
            if (u0 == u1) continue;
            var width = (u1 - u0) * tw;
            // The direct products run over whole blocks of 32 tiles (the rows' slack is computed and never read).
            var pitch = direct ? (width + 31) / 32 * 32 : width;
            var (vStride, mStride) = (Skew(g.C * pitch), Skew(mk * pitch));
            var v = Scratch<T>.Get(3, positions * vStride);
            // The output transforms load whole vectors at the end of the last plane, past the products.
            var m = Scratch<T>.Get(4, positions * mStride + Vector<T>.Count + Vector512<T>.Count);
            Inputs<T, S>(x, v, g, n0, u0, u1, th, tw, pitch, vStride);
            if (direct)
                Products((float[])(object)u, uStride, (float[])(object)v, vStride, (float[])(object)m, mStride, positions, mk, g.C, pitch,
                    parallel: bands == 1 && mk == g.M);
            else
                // Independent products, one per transformed position: for all the work the managed kernel runs them side
                // by side, one per core; another backend keeps its own threading.
                KernelThreads.For(positions, gemm is PackedGemm ? Environment.ProcessorCount : 1, xi =>
                    ConvKernels.Call<T>(gemm, false, false, mk, width, g.C, u.AsSpan(xi * uStride, mk * g.C), g.C,
                        v.AsSpan(xi * vStride, g.C * width), width, T.Zero, m.AsSpan(xi * mStride, mk * width), width));
            Outputs<T, S>(m, y, g, n0, u0, u1, th, tw, epilogue, k0, k1, pitch, mStride);
        }
    }

    /// <summary>
    /// Whether the products of <paramref name="filters"/> output channels run on <see cref="MicroKernel.RunTaps512{T}"/>
    /// with U's rows read in place (float32 with AVX-512, whole blocks of 8 filters) rather than a packing GEMM: the
    /// products are many and short (64–256 channels deep), so packing each one's operands cost as much as the
    /// arithmetic (56² × 64, F(4×4): 3.2 against 1.25 ms a core).
    /// </summary>
    private static bool DirectProducts<T>(int filters) =>
        typeof(T) == typeof(float) && Vector512.IsHardwareAccelerated && filters % MicroKernel.MR == 0;

    /// <summary>
    /// A plane stride of at least <paramref name="n"/> elements that does not put every plane's start in the same L1 set.
    /// Planes a multiple of 4 KB apart (64 channels × 32 tiles, say) made the 36 streams of a transform evict each other
    /// from the 12-way L1: 56² × 64 and 28² × 128 with F(4×4) took 3.6 and 3.95 ms, 3.3 and 3.1 with their planes 64 bytes
    /// off.
    /// </summary>
    internal static int Skew(int n) => (n + 15) / 16 * 16 + 16;

    /// <summary>M[ξ] = U[ξ]·V[ξ] for every position ξ, 8 filters × 32 tiles at a time; rows of V are <paramref name="pitch"/> apart.</summary>
    private static unsafe void Products(float[] u, int uStride, float[] v, int vStride, float[] m, int mStride, int positions, int mk, int c,
        int pitch, bool parallel)
    {
        var offsets = new int[c];
        for (var i = 0; i < c; i++) offsets[i] = i * pitch;
        var blocks = mk / MicroKernel.MR;
        fixed (float* pu = u, pv = v, pm = m)
        fixed (int* po = offsets)
        {
            var (au, av, am, ao) = ((nint)pu, (nint)pv, (nint)pm, (nint)po);
            KernelThreads.ForRanges(positions * blocks, parallel ? KernelThreads.Threads : 1, (first, last) =>
            {
                for (var unit = first; unit < last; unit++)
                {
                    var (xi, kb) = (unit / blocks, unit % blocks * MicroKernel.MR);
                    var a = (float*)au + (long)xi * uStride + (long)kb * c;
                    var b = (float*)av + (long)xi * vStride;
                    var dst = (float*)am + (long)xi * mStride + (long)kb * pitch;
                    for (var t = 0; t < pitch; t += 32)
                        MicroKernel.RunTaps512(c, a, c, b + t, (int*)ao, dst + t, pitch, narrow: false);
                }
            });
        }
    }

    /// <summary>
    /// U[ξ][k − k0][c] = (G·g·Gᵀ)[ξ] for every filter g = W[k, c], k in [k0, k1); for each k the nine taps are first
    /// gathered over c (taps[tap][c]), then transformed a vector of channels at a time.
    /// </summary>
    private static unsafe void Filters<T, S>(Tensor w, T[] u, ConvGeometry g, int k0, int k1, int planeStride)
        where T : unmanaged, IFloatingPointIeee754<T> where S : IWinogradScheme
    {
        var (channels, kc) = (g.C, (k1 - k0) * g.C);
        KernelThreads.ForRanges(k1 - k0, kc >= 4096 ? Environment.ProcessorCount : 1, (first, last) =>
        {
            var taps = new T[9 * channels];
            fixed (T* src = w.Span<T>(), dst = taps)
            {
                for (var k = k0 + first; k < k0 + last; k++)
                {
                    var from = src + (long)k * channels * 9;
                    for (var c = 0; c < channels; c++, from += 9)
                    for (var tap = 0; tap < 9; tap++) dst[tap * channels + c] = from[tap];
                    S.Filters(taps, u, channels, (k - k0) * channels, planeStride);
                }
            }
        });
    }

    /// <summary>
    /// V[ξ][c][t] = (Bᵀ·d·B)[ξ] for every α × α input tile d (zero outside the image) in tile rows [u0, u1), one run of
    /// tile rows of a plane at a time: the run's input rows are copied once into a zero-padded block, each tile row's
    /// columns gathered from it (every m-th element from column j), then the tiles are transformed a vector at a time.
    /// (Padding and copying each of a tile's α rows separately cost ResNet's 7×7 layers as much as their products.)
    /// V's rows are <paramref name="rowPitch"/> apart and its planes <paramref name="vStride"/> (when given; else packed).
    /// F(4×4) on float32 goes through <see cref="WinogradF4Rows"/>.
    /// </summary>
    internal static void Inputs<T, S>(Tensor x, T[] v, ConvGeometry g, int n0, int u0, int u1, int th, int tw, int rowPitch = 0, int vStride = 0)
        where T : unmanaged, IFloatingPointIeee754<T> where S : IWinogradScheme
    {
        var (step, alpha) = (S.Out, S.Alpha);
        var width = rowPitch > 0 ? rowPitch : (u1 - u0) * tw;
        if (typeof(S) == typeof(WinogradF4) && WinogradF4Rows.Applies<T>(g))
        {
            WinogradF4Rows.Inputs(x, (float[])(object)v, g, n0, u0, u1, th, tw, width, vStride > 0 ? vStride : g.C * width);
            return;
        }
        var planeStride = vStride > 0 ? vStride : g.C * width; // distance between ξ planes of V
        var segments = new RowSpans(u0, u1, th);
        var lanes = Vector512<T>.Count;
        var gathered = Gathered<T>(tw);
        var blockStride = th * tw + lanes;
        var pitch = step * gathered + alpha; // padded row: element q holds input column q − PW
        var (lo, from) = (Math.Max(0, g.PW), Math.Max(0, -g.PW));
        var length = Math.Max(0, Math.Min(g.W - from, pitch - lo));
        KernelThreads.ForRanges(g.C, Environment.ProcessorCount, (first, last) =>
        {
            ReadOnlySpan<T> src = x.Span<T>();
            var padded = new T[(step * th + 2) * pitch + lanes];
            // e[(row·α + j)·blockStride + t] = row `row`, column j of tile t; whole vectors are loaded past the last tile.
            var e = new T[alpha * alpha * blockStride + Vector<T>.Count];
            for (var c = first; c < last; c++)
            {
                foreach (var (n, ty0, ty1, before) in segments)
                {
                    var plane = src.Slice(((n0 + n) * g.C + c) * g.H * g.W, g.H * g.W);
                    var rows = step * (ty1 - ty0) + 2; // input rows the run's tiles read, from step·ty0 − PH
                    Array.Clear(padded, 0, rows * pitch);
                    for (var r = 0; r < rows; r++)
                    {
                        var ih = step * ty0 - g.PH + r;
                        if ((uint)ih < (uint)g.H && length > 0) plane.Slice(ih * g.W + from, length).CopyTo(padded.AsSpan(r * pitch + lo));
                    }
                    for (var ty = ty0; ty < ty1; ty++)
                    for (var row = 0; row < alpha; row++)
                    {
                        var line = (step * (ty - ty0) + row) * pitch;
                        for (var j = 0; j < alpha; j++)
                        {
                            var to = e.AsSpan((row * alpha + j) * blockStride + (ty - ty0) * tw, gathered);
                            EveryNth.Gather(step, padded.AsSpan(line + j), to);
                        }
                    }
                    S.Inputs(e, blockStride, v, (ty1 - ty0) * tw, c * width + before * tw, planeStride);
                }
            }
        });
    }

    /// <summary>
    /// How many elements a gather of <paramref name="tw"/> tile columns writes: from half a 64-byte vector of tiles up,
    /// whole vectors (the last one past the row's tiles, overwritten by the next row or landing in slack the caller leaves,
    /// and reading its source that far), so the permute path serves the whole row; shorter rows exactly.
    /// </summary>
    internal static int Gathered<T>(int tw) where T : unmanaged
    {
        var lanes = Vector512<T>.Count;
        return 2 * tw >= lanes ? (tw + lanes - 1) / lanes * lanes : tw;
    }

    /// <summary>
    /// Y tiles = Aᵀ·m·A from the α² GEMM products for tile rows [u0, u1) and output channels [k0, k1), written into Y's
    /// planes, then the epilogue on each finished run of rows; M laid out as <see cref="Inputs{T, S}"/> lays out V.
    /// </summary>
    private static void Outputs<T, S>(T[] m, Tensor y, ConvGeometry g, int n0, int u0, int u1, int th, int tw, ConvEpilogue? epilogue, int k0, int k1,
        int rowPitch = 0, int mStride = 0)
        where T : unmanaged, IFloatingPointIeee754<T> where S : IWinogradScheme
    {
        var step = S.Out;
        var width = rowPitch > 0 ? rowPitch : (u1 - u0) * tw;
        if (typeof(S) == typeof(WinogradF4) && WinogradF4Rows.Applies<T>(g))
        {
            WinogradF4Rows.Outputs((float[])(object)m, y, g, n0, u0, u1, th, tw, epilogue, k0, k1, width, mStride > 0 ? mStride : (k1 - k0) * width);
            return;
        }
        var planeStride = mStride > 0 ? mStride : (k1 - k0) * width;
        var segments = new RowSpans(u0, u1, th);
        var whole = g.OW / step; // tiles whose every column lies inside the output
        KernelThreads.ForRanges(k1 - k0, Environment.ProcessorCount, (first, last) =>
        {
            var dst = y.Span<T>();
            var rows = new T[step * step * th * tw]; // rows[(m·a + b)·tiles + t] = output (a, b) of tile t
            for (var k = k0 + first; k < k0 + last; k++)
            {
                foreach (var (n, ty0, ty1, before) in segments)
                {
                    var tiles = (ty1 - ty0) * tw;
                    var offset = ((n0 + n) * g.M + k) * g.P;
                    var plane = dst.Slice(offset, g.P);
                    S.Outputs(m, rows, tiles, (k - k0) * width + before * tw, planeStride);
                    for (var ty = ty0; ty < ty1; ty++)
                    {
                        for (var a = 0; a < step && step * ty + a < g.OH; a++)
                        {
                            var line = plane.Slice((step * ty + a) * g.OW, g.OW);
                            var at = (ty - ty0) * tw;
                            for (var b = 0; b < step; b++)
                            {
                                ReadOnlySpan<T> column = rows.AsSpan((step * a + b) * tiles + at, tw);
                                for (var tx = 0; tx < whole; tx++) line[step * tx + b] = column[tx];
                                if (whole < tw && step * whole + b < g.OW) line[step * whole + b] = column[whole];
                            }
                        }
                    }
                    if (epilogue is null) continue;
                    var (r0, r1) = (step * ty0 * g.OW, Math.Min(step * ty1, g.OH) * g.OW);
                    var done = plane[r0..r1];
                    epilogue.Apply<T>(done, done, k, offset + r0);
                }
            }
        });
    }
}
