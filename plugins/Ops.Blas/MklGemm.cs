namespace Backprop.Plugins.Blas;

/// <summary>IGemm on MKL's cblas_sgemm / cblas_dgemm (row-major, LP64).</summary>
internal sealed unsafe class MklGemm(NativeMethods mkl) : IGemm
{
    public string Name => $"MKL ({mkl.Threading.Name} threading, {mkl.Threads} threads)";

    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        GemmArguments.Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc); // native code must not read out of bounds
        if (m == 0 || n == 0) return;
        fixed (float* pa = a, pb = b, pc = c) mkl.Sgemm(transA, transB, m, n, k, alpha, pa, Math.Max(lda, 1), pb, Math.Max(ldb, 1), beta, pc, Math.Max(ldc, 1));
    }

    public void Gemm(bool transA, bool transB, int m, int n, int k, double alpha, ReadOnlySpan<double> a, int lda,
        ReadOnlySpan<double> b, int ldb, double beta, Span<double> c, int ldc)
    {
        GemmArguments.Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc); // native code must not read out of bounds
        if (m == 0 || n == 0) return;
        fixed (double* pa = a, pb = b, pc = c) mkl.Dgemm(transA, transB, m, n, k, alpha, pa, Math.Max(lda, 1), pb, Math.Max(ldb, 1), beta, pc, Math.Max(ldc, 1));
    }
}
