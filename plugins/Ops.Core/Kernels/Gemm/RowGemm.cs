using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Plugins.Core;

/// <summary>
/// Small-matrix GEMM: rows of C in parallel, each row built from SIMD axpy (B not transposed) or
/// SIMD dot products (B transposed). Used below the size where packing pays off.
/// </summary>
internal static unsafe class RowGemm
{
    private const long ParallelWork = 64 * 64 * 64;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static void Run<T>(bool transA, bool transB, int m, int n, int k, T alpha, ReadOnlySpan<T> a, int lda,
        ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m == 0 || n == 0) return;
        fixed (T* pa = a, pb = b, pc = c)
        {
            var (ia, ib, ic) = ((nint)pa, (nint)pb, (nint)pc);
            var (aLen, bLen, cLen) = (a.Length, b.Length, c.Length);
            void Row(int i)
            {
                var A = new ReadOnlySpan<T>((void*)ia, aLen);
                var B = new ReadOnlySpan<T>((void*)ib, bLen);
                var C = new Span<T>((void*)ic, cLen).Slice(i * ldc, n);
                if (beta == T.Zero) C.Clear();
                else if (beta != T.One) TensorPrimitives.Multiply(C, beta, C);
                if (k == 0) return;
                Span<T> rowA = k <= 1024 ? stackalloc T[k] : new T[k];
                if (transA) for (var p = 0; p < k; p++) rowA[p] = A[p * lda + i];
                else A.Slice(i * lda, k).CopyTo(rowA);
                if (alpha != T.One) TensorPrimitives.Multiply(rowA, alpha, rowA);
                if (transB)
                {
                    for (var j = 0; j < n; j++) C[j] += TensorPrimitives.Dot<T>(rowA, B.Slice(j * ldb, k));
                }
                else
                {
                    for (var p = 0; p < k; p++)
                    {
                        var s = rowA[p];
                        if (s != T.Zero) TensorPrimitives.MultiplyAdd(B.Slice(p * ldb, n), s, C, C);
                    }
                }
            }
            if ((long)m * n * k >= ParallelWork && m > 1) Parallel.For(0, m, Row);
            else for (var i = 0; i < m; i++) Row(i);
        }
    }
}
