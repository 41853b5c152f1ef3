namespace Backprop.Plugins.Blas;

/// <summary>IGemm on MKL's cblas_sgemm / cblas_dgemm (row-major, LP64).</summary>
internal sealed unsafe class MklGemm(NativeMethods mkl) : IGemm
{
    public string Name => $"MKL ({mkl.Threading.Name} threading, {mkl.Threads} threads)";

    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        Check(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0) return;
        fixed (float* pa = a, pb = b, pc = c) mkl.Sgemm(transA, transB, m, n, k, alpha, pa, Math.Max(lda, 1), pb, Math.Max(ldb, 1), beta, pc, Math.Max(ldc, 1));
    }

    public void Gemm(bool transA, bool transB, int m, int n, int k, double alpha, ReadOnlySpan<double> a, int lda,
        ReadOnlySpan<double> b, int ldb, double beta, Span<double> c, int ldc)
    {
        Check(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0) return;
        fixed (double* pa = a, pb = b, pc = c) mkl.Dgemm(transA, transB, m, n, k, alpha, pa, Math.Max(lda, 1), pb, Math.Max(ldb, 1), beta, pc, Math.Max(ldc, 1));
    }

    /// <summary>Native code would read out of bounds on bad arguments, so they are refused here.</summary>
    private static void Check(bool transA, bool transB, int m, int n, int k, int aLen, int lda, int bLen, int ldb, int cLen, int ldc)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), $"GEMM sizes must be non-negative: m={m}, n={n}, k={k}.");
        var (ar, ac) = transA ? (k, m) : (m, k);
        var (br, bc) = transB ? (n, k) : (k, n);
        Need("A", ar, ac, lda, aLen);
        Need("B", br, bc, ldb, bLen);
        Need("C", m, n, ldc, cLen);
    }

    private static void Need(string name, int rows, int cols, int ld, int length)
    {
        if (rows == 0 || cols == 0) return;
        if (ld < cols) throw new ArgumentException($"GEMM: leading dimension of {name} ({ld}) is smaller than its {cols} columns.");
        if ((long)(rows - 1) * ld + cols > length) throw new ArgumentException($"GEMM: {name} needs {(long)(rows - 1) * ld + cols} elements ({rows}×{cols}, ld {ld}) but has {length}.");
    }
}
