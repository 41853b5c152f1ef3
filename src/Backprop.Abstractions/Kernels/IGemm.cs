namespace Backprop;

/// <summary>
/// Row-major general matrix multiply, C = alpha·op(A)·op(B) + beta·C, where op transposes when asked.
/// op(A) is m×k, op(B) is k×n, C is m×n; lda/ldb/ldc are row strides of the stored matrices.
/// </summary>
public interface IGemm
{
    /// <summary>Human-readable backend name (shown by `backprop info`).</summary>
    string Name { get; }

    /// <summary>float32 GEMM.</summary>
    void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc);

    /// <summary>float64 GEMM.</summary>
    void Gemm(bool transA, bool transB, int m, int n, int k, double alpha, ReadOnlySpan<double> a, int lda,
        ReadOnlySpan<double> b, int ldb, double beta, Span<double> c, int ldc);
}
