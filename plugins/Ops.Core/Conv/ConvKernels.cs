using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Backprop.Plugins.Core;

/// <summary>
/// Convolution as GEMM over a patch matrix colT[Kc, n·P] (one row per (channel, kernel row, kernel column), one column
/// per output position of every sample in the chunk). Rows are filled with contiguous copies (stride 1) so im2col is
/// memory-bound, and outputs come back to NCHW as whole-plane copies:
/// forward Y' = W·colT, input gradient col2im(Wᵀ·D'), weight gradient D'·colTᵀ — all through the GEMM router.
/// </summary>
internal static class ConvKernels
{
    private const long ChunkElements = 1 << 20;

    /// <summary>Multiply-adds from which a convolution (forward, weight gradient) gives each core its own share from start to finish.</summary>
    private const long SplitWork = 1 << 18;

    private static int Chunk(ConvGeometry g) => (int)Math.Clamp(ChunkElements / Math.Max(1L, (long)g.P * Math.Max(g.Kc, g.Mg)), 1, g.N);

    /// <summary>
    /// Fills colT[Kc, count·P] for samples [n0, n0+count) and group grp. Rows are independent, so they are split across
    /// cores (im2col is memory-bound and was a single-threaded share of every convolution).
    /// </summary>
    private static unsafe void Im2Col<T>(ReadOnlySpan<T> x, ConvGeometry g, int n0, int count, int grp, Span<T> colT) where T : unmanaged, INumber<T>
    {
        var rows = g.Cg * g.KH * g.KW;
        var width = count * g.P;
        var threads = (long)rows * width >= 1 << 16 ? Environment.ProcessorCount : 1;
        fixed (T* px = x, pc = colT)
        {
            var (ax, ac, lx, lc) = ((IntPtr)px, (IntPtr)pc, x.Length, colT.Length);
            KernelThreads.ForRanges(rows, threads, (first, last) =>
            {
                Im2ColRows(new ReadOnlySpan<T>((T*)ax, lx), g, n0, 0, count * g.OH, grp, new Span<T>((T*)ac, lc), first, last);
            });
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Im2ColRows<T>(ReadOnlySpan<T> x, ConvGeometry g, int n0, int u0, int u1, int grp, Span<T> colT, int first, int last) where T : unmanaged, INumber<T>
    {
        // Columns are output rows u0 … u1−1 of the chunk (row u is output row u mod OH of sample n0 + u / OH), OW each.
        var width = (u1 - u0) * g.OW;
        for (var r = first; r < last; r++)
        {
            var (c, i, j) = (r / (g.KH * g.KW), r / g.KW % g.KH, r % g.KW);
            var row = colT.Slice(r * width, width);
            var iw0 = j * g.DW - g.PW;
            var (lo, hi) = ValidColumns(g, iw0);
            foreach (var (n, oh0, oh1, before) in new RowSpans(u0, u1, g.OH))
            {
                var plane = x.Slice((((n0 + n) * g.C) + grp * g.Cg + c) * g.H * g.W, g.H * g.W);
                for (var oh = oh0; oh < oh1; oh++)
                {
                    var dst = row.Slice((before + oh - oh0) * g.OW, g.OW);
                    var ih = oh * g.SH - g.PH + i * g.DH;
                    if ((uint)ih >= (uint)g.H || lo >= hi) { dst.Clear(); continue; }
                    var src = plane.Slice(ih * g.W, g.W);
                    dst[..lo].Clear();
                    dst[hi..].Clear();
                    EveryNth.Gather(g.SW, src[(iw0 + lo * g.SW)..], dst[lo..hi]);
                }
            }
        }
    }

    /// <summary>Adds colT[Kc, count·P] back into the input gradient (the adjoint of <see cref="Im2Col{T}"/>).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Col2Im<T>(ReadOnlySpan<T> colT, ConvGeometry g, int n0, int count, int grp, Span<T> dx) where T : unmanaged, INumber<T>
    {
        var width = count * g.P;
        for (var c = 0; c < g.Cg; c++)
        for (var i = 0; i < g.KH; i++)
        for (var j = 0; j < g.KW; j++)
        {
            var row = colT.Slice(((c * g.KH + i) * g.KW + j) * width, width);
            var iw0 = j * g.DW - g.PW;
            var (lo, hi) = ValidColumns(g, iw0);
            if (lo >= hi) continue;
            for (var n = 0; n < count; n++)
            {
                var plane = dx.Slice((((n0 + n) * g.C) + grp * g.Cg + c) * g.H * g.W, g.H * g.W);
                for (var oh = 0; oh < g.OH; oh++)
                {
                    var ih = oh * g.SH - g.PH + i * g.DH;
                    if ((uint)ih >= (uint)g.H) continue;
                    var src = row.Slice(n * g.P + oh * g.OW, g.OW);
                    var dst = plane.Slice(ih * g.W, g.W);
                    if (g.SW == 1) TensorPrimitives.Add(dst.Slice(iw0 + lo, hi - lo), src[lo..hi], dst.Slice(iw0 + lo, hi - lo));
                    else for (var ow = lo; ow < hi; ow++) dst[iw0 + ow * g.SW] += src[ow];
                }
            }
        }
    }

    /// <summary>Output columns [lo, hi) whose input column iw0 + ow·SW lies inside the image.</summary>
    private static (int Lo, int Hi) ValidColumns(ConvGeometry g, int iw0)
    {
        var lo = iw0 >= 0 ? 0 : (-iw0 + g.SW - 1) / g.SW;
        var hi = iw0 >= g.W ? 0 : Math.Min(g.OW, (g.W - 1 - iw0) / g.SW + 1);
        return (Math.Min(lo, g.OW), Math.Max(hi, 0));
    }

    /// <summary>
    /// Copies whole planes between an NCHW tensor with M channels and the [Mg, count·P] matrix of group grp, channels split
    /// across cores when there is enough to copy.
    /// </summary>
    private static unsafe void Planes<T>(Span<T> nchw, Span<T> matrix, ConvGeometry g, int n0, int count, int grp, bool toMatrix, ConvEpilogue? epilogue = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var width = count * g.P;
        var threads = (long)g.Mg * width >= 1 << 16 ? Environment.ProcessorCount : 1;
        fixed (T* pt = nchw, pm = matrix)
        {
            var (at, am) = ((IntPtr)pt, (IntPtr)pm);
            KernelThreads.ForRanges(g.Mg, threads, (first, last) =>
            {
                for (var m = first; m < last; m++)
                for (var n = 0; n < count; n++)
                {
                    var plane = new Span<T>((T*)at + ((((n0 + n) * g.M) + grp * g.Mg + m) * g.P), g.P);
                    var cols = new Span<T>((T*)am + (m * width + n * g.P), g.P);
                    if (toMatrix) plane.CopyTo(cols);
                    else if (epilogue is null) cols.CopyTo(plane);
                    else epilogue.Apply<T>(cols, plane, grp * g.Mg + m, ((n0 + n) * g.M + grp * g.Mg + m) * g.P);
                }
            });
        }
    }

    /// <summary>Y = X ⋆ W, each output plane passed through <paramref name="epilogue"/> (when given) as it is copied out.</summary>
    public static void Forward<T>(IGemmRouter router, IKernelProvider kernels, ConvGeometry g, Tensor x, Tensor w, Tensor y, ConvEpilogue? epilogue = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Winograd.Preferred<T>(g))
        {
            Winograd.Forward<T>(router, kernels, g, x, w, y, epilogue);
            return;
        }
        if (FlatConv.Applies(g))
        {
            FlatConv.Forward<T>(g, x, w, y, epilogue);
            return;
        }
        if (Winograd.Applies(g))
        {
            Winograd.Forward<T>(router, kernels, g, x, w, y, epilogue);
            return;
        }
        if (DirectConv.Applies(g))
        {
            DirectConv.Forward<T>(g, x, w, y, epilogue);
            return;
        }
        var chunk = Chunk(g);
        var parts = KernelThreads.Threads;
        var dtype = DTypeExtensions.Of<T>();
        for (var n0 = 0; n0 < g.N; n0 += chunk)
        {
            var count = Math.Min(chunk, g.N - n0);
            var units = count * g.OH;
            // As in Winograd.Forward: each core builds its own patch columns and writes what it computed, by bands of output
            // rows while the input outweighs the filters (each band reads all filters), else by output channels (each core
            // then builds the whole, small, patch matrix itself and reads only its share of the filters).
            var byBands = (long)count * g.C * g.H * g.W >= (long)g.M * g.Kc;
            var share = ((g.M + parts - 1) / parts + MicroKernel.MR - 1) / MicroKernel.MR * MicroKernel.MR;
            var split = byBands ? router.Select(kernels, false, false, g.Mg, Math.Max(1, units / parts) * g.OW, g.Kc, dtype)
                : router.Select(kernels, false, false, share, count * g.P, g.Kc, dtype);
            if (parts > 1 && split is PackedGemm && (long)g.M * g.Kc * count * g.P >= SplitWork
                && (byBands ? units >= parts : g.Group == 1 && g.M > share))
            {
                var n = n0;
                KernelThreads.ForEachThread(part =>
                {
                    if (byBands) Band<T>(split, g, x, w, y, epilogue, n, (int)((long)units * part / parts), (int)((long)units * (part + 1) / parts), 0, g.Mg);
                    else Band<T>(split, g, x, w, y, epilogue, n, 0, units, Math.Min(g.M, part * share), Math.Min(g.M, (part + 1) * share));
                });
                continue;
            }
            var colT = Scratch<T>.Get(0, g.Kc * chunk * g.P);
            var ym = Scratch<T>.Get(1, g.Mg * chunk * g.P);
            var width = count * g.P;
            var gemm = router.Select(kernels, false, false, g.Mg, width, g.Kc, DTypeExtensions.Of<T>());
            for (var grp = 0; grp < g.Group; grp++)
            {
                Im2Col<T>(x.Span<T>(), g, n0, count, grp, colT);
                Call(gemm, false, false, g.Mg, width, g.Kc, w.Span<T>().Slice(grp * g.Mg * g.Kc, g.Mg * g.Kc), g.Kc, colT, width, T.Zero, ym, width);
                Planes<T>(y.Span<T>(), ym, g, n0, count, grp, toMatrix: false, epilogue);
            }
        }
    }

    /// <summary>
    /// Forward for output rows [u0, u1) of the chunk at sample n0 (row u is output row u mod OH of sample n0 + u / OH) and
    /// channels [m0, m1) of each group, single-threaded: patch columns, product, planes.
    /// </summary>
    private static void Band<T>(IGemm gemm, ConvGeometry g, Tensor x, Tensor w, Tensor y, ConvEpilogue? epilogue, int n0, int u0, int u1, int m0, int m1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (width, rows) = ((u1 - u0) * g.OW, m1 - m0);
        if (rows <= 0) return;
        var colT = Scratch<T>.Get(0, g.Kc * width);
        var ym = Scratch<T>.Get(1, rows * width);
        for (var grp = 0; grp < g.Group; grp++)
        {
            Im2ColRows<T>(x.Span<T>(), g, n0, u0, u1, grp, colT, 0, g.Kc);
            Call(gemm, false, false, rows, width, g.Kc, w.Span<T>().Slice((grp * g.Mg + m0) * g.Kc, rows * g.Kc), g.Kc, colT, width, T.Zero, ym, width);
            var dst = y.Span<T>();
            for (var m = 0; m < rows; m++)
            {
                var k = grp * g.Mg + m0 + m;
                foreach (var (n, oh0, oh1, before) in new RowSpans(u0, u1, g.OH))
                {
                    var offset = ((n0 + n) * g.M + k) * g.P + oh0 * g.OW;
                    var planeRows = dst.Slice(offset, (oh1 - oh0) * g.OW);
                    var cols = ym.AsSpan(m * width + before * g.OW, planeRows.Length);
                    if (epilogue is null) cols.CopyTo(planeRows);
                    else epilogue.Apply<T>(cols, planeRows, k, offset);
                }
            }
        }
    }

    /// <summary>Writes dX (overwriting whatever it held) = ∂⟨dY, X ⋆ W⟩/∂X.</summary>
    public static void GradInput<T>(IGemmRouter router, IKernelProvider kernels, ConvGeometry g, Tensor dy, Tensor w, Tensor dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // dX is the 3×3 correlation of dY with the flipped, channel-transposed filters: a forward kernel applies to it, in
        // the forward's order of preference — Winograd's preferred F(4×4) path (reading the filters in place), the direct
        // kernel, then Winograd (both on a flipped copy). (Winograd came first on the November host, 12.4 against 13.9 ms
        // at 7×7, batch 8; on the December one, whose cores run full-width 512-bit FMAs, the direct kernel takes that
        // layer's input gradient from 20–25 to 14–16 ms in alternating rounds.)
        if (Winograd.Transposed(g) is { } transposed)
        {
            if (Winograd.Preferred<T>(transposed))
            {
                Winograd.Forward<T>(router, kernels, transposed, dy, w, dx, null, transposed: true);
                return;
            }
            if (FlatConv.Applies(transposed) is var flat && (flat || Winograd.Applies(transposed)))
            {
                var flipped = Winograd.Flip<T>(w, g);
                if (flat) FlatConv.Forward<T>(transposed, dy, flipped, dx, null);
                else Winograd.Forward<T>(router, kernels, transposed, dy, flipped, dx, null);
                return;
            }
        }
        if (PhaseGradInput.Applies(g))
        {
            PhaseGradInput.Run<T>(g, dy, w, dx);
            return;
        }
        dx.Span<T>().Clear(); // col2im adds into dX
        var chunk = Chunk(g);
        var colT = Scratch<T>.Get(0, g.Kc * chunk * g.P);
        var dm = Scratch<T>.Get(1, g.Mg * chunk * g.P);
        for (var n0 = 0; n0 < g.N; n0 += chunk)
        {
            var count = Math.Min(chunk, g.N - n0);
            var width = count * g.P;
            var gemm = router.Select(kernels, true, false, g.Kc, width, g.Mg, DTypeExtensions.Of<T>());
            for (var grp = 0; grp < g.Group; grp++)
            {
                Planes<T>(dy.Span<T>(), dm, g, n0, count, grp, toMatrix: true);
                Call(gemm, true, false, g.Kc, width, g.Mg, w.Span<T>().Slice(grp * g.Mg * g.Kc, g.Mg * g.Kc), g.Kc, dm, width, T.Zero, colT, width);
                Col2Im<T>(colT, g, n0, count, grp, dx.Span<T>());
            }
        }
    }

    /// <summary>Writes dW (overwriting whatever it held) = ∂⟨dY, X ⋆ W⟩/∂W.</summary>
    public static void GradWeight<T>(IGemmRouter router, IKernelProvider kernels, ConvGeometry g, Tensor x, Tensor dy, Tensor dw) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (WinogradWeightGradient.Preferred<T>(g))
        {
            WinogradWeightGradient.Run<T>(router, kernels, g, x, dy, dw);
            return;
        }
        if (DirectWeightGradient.Applies(g))
        {
            DirectWeightGradient.Run<T>(g, x, dy, dw);
            return;
        }
        if (PhaseWeightGradient.Applies(g))
        {
            PhaseWeightGradient.Run<T>(g, x, dy, dw);
            return;
        }
        if (WinogradWeightGradient.Applies(g))
        {
            WinogradWeightGradient.Run<T>(router, kernels, g, x, dy, dw);
            return;
        }
        dw.Span<T>().Clear(); // the products below add into dW
        var chunk = Chunk(g);
        var parts = KernelThreads.Threads;
        var dtype = DTypeExtensions.Of<T>();
        // While the input outweighs the filters, each core takes its own bands of output rows as in the forward and sums
        // their contributions into its own copy of dW (small in that case), added up at the end. Otherwise the patch
        // matrix is shared: building it once per core cost more than the hand-offs it saves (measured on ResNet18's deep
        // layers in training).
        var units = chunk * g.OH;
        var split = router.Select(kernels, false, true, g.Mg, g.Kc, Math.Max(1, units / parts) * g.OW, dtype);
        if (parts > 1 && split is PackedGemm && (long)g.M * g.Kc * chunk * g.P >= SplitWork && units >= parts
            && (long)chunk * g.C * g.H * g.W >= (long)g.M * g.Kc)
        {
            var partials = new T[parts][];
            KernelThreads.ForEachThread(part =>
            {
                Array.Clear(partials[part] = Scratch<T>.Get(2, g.M * g.Kc), 0, g.M * g.Kc);
                for (var n0 = 0; n0 < g.N; n0 += chunk)
                {
                    var rows = Math.Min(chunk, g.N - n0) * g.OH;
                    var (u0, u1) = ((int)((long)rows * part / parts), (int)((long)rows * (part + 1) / parts));
                    if (u0 < u1) WeightBand<T>(split, g, x, dy, partials[part], n0, u0, u1);
                }
            });
            var total = dw.Span<T>();
            foreach (var partial in partials) TensorPrimitives.Add(total, partial.AsSpan(0, total.Length), total);
            return;
        }
        var colT = Scratch<T>.Get(0, g.Kc * chunk * g.P);
        var dm = Scratch<T>.Get(1, g.Mg * chunk * g.P);
        for (var n0 = 0; n0 < g.N; n0 += chunk)
        {
            var count = Math.Min(chunk, g.N - n0);
            var width = count * g.P;
            var gemm = router.Select(kernels, false, true, g.Mg, g.Kc, width, dtype);
            for (var grp = 0; grp < g.Group; grp++)
            {
                Im2Col<T>(x.Span<T>(), g, n0, count, grp, colT);
                Planes<T>(dy.Span<T>(), dm, g, n0, count, grp, toMatrix: true);
                Call(gemm, false, true, g.Mg, g.Kc, width, dm, width, colT, width, T.One, dw.Span<T>().Slice(grp * g.Mg * g.Kc, g.Mg * g.Kc), g.Kc);
            }
        }
    }

    /// <summary>Adds the contribution of output rows [u0, u1) of the chunk at sample n0 to <paramref name="partial"/> (laid out like dW); single-threaded.</summary>
    private static void WeightBand<T>(IGemm gemm, ConvGeometry g, Tensor x, Tensor dy, T[] partial, int n0, int u0, int u1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (width, rows) = ((u1 - u0) * g.OW, g.Mg);
        var colT = Scratch<T>.Get(0, g.Kc * width);
        var dm = Scratch<T>.Get(1, rows * width);
        var target = partial.AsSpan(0, g.M * g.Kc);
        for (var grp = 0; grp < g.Group; grp++)
        {
            Im2ColRows<T>(x.Span<T>(), g, n0, u0, u1, grp, colT, 0, g.Kc);
            ReadOnlySpan<T> src = dy.Span<T>();
            for (var m = 0; m < rows; m++)
            foreach (var (n, oh0, oh1, before) in new RowSpans(u0, u1, g.OH))
                src.Slice(((n0 + n) * g.M + grp * g.Mg + m) * g.P + oh0 * g.OW, (oh1 - oh0) * g.OW).CopyTo(dm.AsSpan(m * width + before * g.OW));
            Call(gemm, false, true, rows, g.Kc, width, dm, width, colT, width, T.One, target.Slice(grp * g.Mg * g.Kc, rows * g.Kc), g.Kc);
        }
    }

    internal static void Call<T>(IGemm gemm, bool ta, bool tb, int m, int n, int k, ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var aLen = ((ta ? k : m) - 1) * lda + (ta ? m : k);
        var bLen = ((tb ? n : k) - 1) * ldb + (tb ? k : n);
        var cLen = (m - 1) * ldc + n;
        if (typeof(T) == typeof(float))
            gemm.Gemm(ta, tb, m, n, k, 1f, MemoryMarshal.Cast<T, float>(a[..aLen]), lda, MemoryMarshal.Cast<T, float>(b[..bLen]), ldb, float.CreateTruncating(beta), MemoryMarshal.Cast<T, float>(c[..cLen]), ldc);
        else
            gemm.Gemm(ta, tb, m, n, k, 1d, MemoryMarshal.Cast<T, double>(a[..aLen]), lda, MemoryMarshal.Cast<T, double>(b[..bLen]), ldb, double.CreateTruncating(beta), MemoryMarshal.Cast<T, double>(c[..cLen]), ldc);
    }
}
