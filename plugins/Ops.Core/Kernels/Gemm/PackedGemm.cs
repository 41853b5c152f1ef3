using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Plugins.Core;

/// <summary>
/// Managed BLIS-style GEMM: op(B) is packed in KC×NC blocks of NR-wide panels, op(A) in MC×KC blocks of
/// MR-tall panels (transposes handled while packing), and a register-blocked Vector512 (or Vector256)
/// micro-kernel computes MR×NR tiles. Work is split across cores over row blocks, or over column
/// panels when there are too few row blocks.
/// </summary>
internal sealed unsafe class PackedGemm : IGemm
{
    private const int KC = 256;
    private const int MC = 144;
    private const int NC = 3072;
    private const long SmallWork = 24 * 24 * 24;
    private static readonly bool Use512 = Vector512.IsHardwareAccelerated;
    private static readonly bool Use256 = Vector256.IsHardwareAccelerated;

    /// <summary>Threads to use (defaults to the processor count).</summary>
    public static int MaxThreads { get; set; } =
        int.TryParse(Environment.GetEnvironmentVariable("BACKPROP_GEMM_THREADS"), out var t) && t > 0 ? t : Environment.ProcessorCount;

    public string Name => Use512 ? "managed packed Vector512" : Use256 ? "managed packed Vector256" : "managed row kernel (no SIMD)";

    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc) =>
        Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    public void Gemm(bool transA, bool transB, int m, int n, int k, double alpha, ReadOnlySpan<double> a, int lda,
        ReadOnlySpan<double> b, int ldb, double beta, Span<double> c, int ldc) =>
        Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    private static int NR<T>() where T : unmanaged => 2 * (Use512 ? Vector512<T>.Count : Vector256<T>.Count);

    private static void Run<T>(bool transA, bool transB, int m, int n, int k, T alpha, ReadOnlySpan<T> a, int lda,
        ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        GemmArguments.Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0) return;
        if (!Use256 || (long)m * n * k < SmallWork)
        {
            RowGemm.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        for (var i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            if (beta == T.Zero) row.Clear();
            else if (beta != T.One) TensorPrimitives.Multiply(row, beta, row);
        }
        if (k == 0 || alpha == T.Zero) return;
        fixed (T* pa = a, pb = b, pc = c)
        {
            new Driver<T>(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, pc, ldc).Run();
        }
    }

    private sealed class Driver<T>(bool transA, bool transB, int m, int n, int k, T alpha, T* a, int lda, T* b, int ldb, T* c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly int _nr = NR<T>();

        /// <summary>
        /// Splits C into one part per thread and runs the sequential algorithm on each (one fork-join per GEMM): by rows
        /// when they outnumber the columns or give each thread at least 256, else by columns. Splitting rows repeats the
        /// packing of B in each part, splitting columns that of A: either costs about 1/(size of the split dimension ÷
        /// threads) of the arithmetic. Rows are preferred, and parts are pinned to threads
        /// (<see cref="KernelThreads.ForEachThread"/>), so that the next row-wise op finds its rows on the core that wrote them.
        /// </summary>
        public void Run()
        {
            var threads = Math.Max(1, MaxThreads);
            var work = (long)m * n * k;
            var parts = work < 8 * SmallWork ? 1 : threads;
            var splitRows = m >= n || m >= 256 * threads;
            var unit = splitRows ? MicroKernel.MR : _nr;
            var extent = splitRows ? m : n;
            parts = Math.Max(1, Math.Min(parts, (extent + unit - 1) / unit));
            if (parts == 1)
            {
                Sequential(a, b, c, m, n);
                return;
            }
            var chunk = ((extent + parts - 1) / parts + unit - 1) / unit * unit;
            var (pa, pb, pc) = ((nint)a, (nint)b, (nint)c);
            Action<int> body = part =>
            {
                var start = part * chunk;
                var size = Math.Min(chunk, extent - start);
                if (size <= 0) return;
                if (splitRows)
                {
                    var aPart = (T*)pa + (transA ? start : (long)start * lda);
                    Sequential(aPart, (T*)pb, (T*)pc + (long)start * ldc, size, n);
                }
                else
                {
                    var bPart = (T*)pb + (transB ? (long)start * ldb : start);
                    Sequential((T*)pa, bPart, (T*)pc + start, m, size);
                }
            };
            if (parts == KernelThreads.Threads) KernelThreads.ForEachThread(body);
            else KernelThreads.For(parts, threads, body);
        }

        /// <summary>The BLIS loop nest on one part of C (rows × cols), single-threaded.</summary>
        private void Sequential(T* aPart, T* bPart, T* cPart, int rows, int cols)
        {
            var packedB = ArrayPool<T>.Shared.Rent(KC * (Math.Min(NC, cols) + _nr));
            try
            {
                fixed (T* bp = packedB)
                {
                    for (var jc = 0; jc < cols; jc += NC)
                    {
                        var nc = Math.Min(NC, cols - jc);
                        var panels = (nc + _nr - 1) / _nr;
                        for (var pcIndex = 0; pcIndex < k; pcIndex += KC)
                        {
                            var kc = Math.Min(KC, k - pcIndex);
                            PackB(bPart, bp, pcIndex, jc, kc, nc);
                            for (var ic = 0; ic < rows; ic += MC)
                                Block(aPart, cPart, ic, Math.Min(MC, rows - ic), pcIndex, kc, jc, nc, 0, panels, bp);
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(packedB);
            }
        }

        /// <summary>One MC×KC block of A against panels [p0, p1) of the packed B block.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Block(T* a, T* c, int ic, int mc, int pc, int kc, int jc, int nc, int p0, int p1, T* bp)
        {
            var mPanels = (mc + MicroKernel.MR - 1) / MicroKernel.MR;
            var packedA = ArrayPool<T>.Shared.Rent(mPanels * MicroKernel.MR * kc);
            var tile = stackalloc T[MicroKernel.MR * 32];
            try
            {
                fixed (T* ap = packedA)
                {
                    // Row-major A is read in place by the kernel (its rows stream well); only full MR-row panels qualify,
                    // so the packed copy is needed for transposed A or a partial last panel.
                    var inPlace = !transA;
                    if (!inPlace) PackA(a, ap, ic, pc, mc, kc);
                    else if (mc % MicroKernel.MR != 0) PackA(a, ap, ic, pc, mc, kc, firstPanel: mPanels - 1);
                    for (var q = p0; q < p1; q++)
                    {
                        var j = q * _nr;
                        var cols = Math.Min(_nr, nc - j);
                        var bPanel = bp + (long)q * kc * _nr;
                        for (var r = 0; r < mPanels; r++)
                        {
                            var i = r * MicroKernel.MR;
                            var rows = Math.Min(MicroKernel.MR, mc - i);
                            var direct = inPlace && rows == MicroKernel.MR;
                            var aPanel = direct ? a + (long)(ic + i) * lda + pc : ap + (long)r * kc * MicroKernel.MR;
                            var (aStep, rowStride) = direct ? (1, (nint)lda) : ((nint)MicroKernel.MR, (nint)1);
                            var cTile = c + (long)(ic + i) * ldc + jc + j;
                            if (rows == MicroKernel.MR && cols == _nr)
                            {
                                Kernel(kc, aPanel, aStep, rowStride, bPanel, cTile, ldc);
                                continue;
                            }
                            new Span<T>(tile, MicroKernel.MR * _nr).Clear();
                            Kernel(kc, aPanel, aStep, rowStride, bPanel, tile, _nr);
                            for (var ii = 0; ii < rows; ii++)
                                for (var jj = 0; jj < cols; jj++)
                                    cTile[(long)ii * ldc + jj] += tile[ii * _nr + jj];
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(packedA);
            }
        }

        private void Kernel(int kc, T* ap, nint aStep, nint rowStride, T* bp, T* ct, int ldct)
        {
            if (Use512) MicroKernel.Run512(kc, ap, aStep, rowStride, bp, ct, ldct, alpha);
            else MicroKernel.Run256(kc, ap, aStep, rowStride, bp, ct, ldct, alpha);
        }

        /// <summary>Packs op(A)[ic.., pc..] into MR-tall panels, k-major, zero-padded.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void PackA(T* a, T* dst, int ic, int pc, int mc, int kc, int firstPanel = 0)
        {
            const int mr = MicroKernel.MR;
            for (var r = firstPanel; r * mr < mc; r++)
            {
                var panel = dst + (long)r * kc * mr;
                var rows = Math.Min(mr, mc - r * mr);
                if (transA)
                {
                    // Stored transposed, a panel's rows at one k are contiguous: one short copy per k (element by element,
                    // k-inner, this packing held MiniLM's weight-gradient GEMMs to ~170 against ~215 GFLOP/s untransposed).
                    var src = a + (long)pc * lda + ic + r * mr;
                    if (rows == mr)
                    {
                        // A whole panel row is MR adjacent elements: a block copy of constant size (a vector move or two).
                        for (var kk = 0; kk < kc; kk++) Unsafe.CopyBlockUnaligned(panel + kk * mr, src + (long)kk * lda, (uint)(mr * sizeof(T)));
                        continue;
                    }
                    for (var kk = 0; kk < kc; kk++)
                    {
                        var to = panel + kk * mr;
                        new ReadOnlySpan<T>(src + (long)kk * lda, rows).CopyTo(new Span<T>(to, rows));
                        for (var ii = rows; ii < mr; ii++) to[ii] = T.Zero;
                    }
                    continue;
                }
                var done = 0;
                if (rows == mr && Transpose8.Supported<T>())
                {
                    // Whole panels: 8 × 8 blocks transposed in registers, the ragged rest of k below.
                    var from = (float*)(a + (long)(ic + r * mr) * lda + pc);
                    for (; done + 8 <= kc; done += 8) Transpose8.Block(from + done, lda, (float*)panel + done * mr, mr);
                }
                for (var ii = 0; ii < mr; ii++)
                {
                    if (ii >= rows)
                    {
                        for (var kk = 0; kk < kc; kk++) panel[kk * mr + ii] = T.Zero;
                        continue;
                    }
                    var from = a + (long)(ic + r * mr + ii) * lda + pc;
                    for (var kk = done; kk < kc; kk++) panel[kk * mr + ii] = from[kk];
                }
            }
        }

        /// <summary>Packs op(B)[pc.., jc..] into NR-wide panels, k-major, zero-padded.</summary>
        private void PackB(T* b, T* dst, int pc, int jc, int kc, int nc)
        {
            var panels = (nc + _nr - 1) / _nr;
            for (var q = 0; q < panels; q++) PackBPanel(b, dst, q, pc, jc, kc, nc);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void PackBPanel(T* b, T* dst, int q, int pc, int jc, int kc, int nc)
        {
            var nr = _nr;
            var panel = dst + (long)q * kc * nr;
            var cols = Math.Min(nr, nc - q * nr);
            var j0 = jc + q * nr;
            if (transB)
            {
                // Blocks of 8 columns × 8 k transposed in registers; what they leave (the ragged k of those columns, every k
                // of the last columns) column by column, each column of op(B) (a row of B) read contiguously and written
                // strided into the panel.
                var (whole, deep) = Transpose8.Supported<T>() ? (cols / 8 * 8, kc / 8 * 8) : (0, 0);
                for (var jj = 0; jj < whole; jj += 8)
                for (var kk = 0; kk < deep; kk += 8)
                    Transpose8.Block((float*)(b + (long)(j0 + jj) * ldb + pc + kk), ldb, (float*)panel + (long)kk * nr + jj, nr);
                for (var jj = 0; jj < cols; jj++)
                {
                    var src = b + (long)(j0 + jj) * ldb + pc;
                    for (var kk = jj < whole ? deep : 0; kk < kc; kk++) panel[kk * nr + jj] = src[kk];
                }
                if (cols < nr)
                    for (var kk = 0; kk < kc; kk++)
                        for (var jj = cols; jj < nr; jj++) panel[kk * nr + jj] = T.Zero;
                return;
            }
            for (var kk = 0; kk < kc; kk++)
            {
                var row = panel + kk * nr;
                new ReadOnlySpan<T>(b + (long)(pc + kk) * ldb + j0, cols).CopyTo(new Span<T>(row, cols));
                for (var jj = cols; jj < nr; jj++) row[jj] = T.Zero;
            }
        }
    }
}
