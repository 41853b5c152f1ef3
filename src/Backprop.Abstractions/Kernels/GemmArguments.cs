namespace Backprop;

/// <summary>Argument checks every <see cref="IGemm"/> backend performs (native ones must, before touching memory).</summary>
public static class GemmArguments
{
    /// <summary>Throws if the sizes are negative or a buffer is too short for its rows, columns and leading dimension.</summary>
    public static void Validate(bool transA, bool transB, int m, int n, int k, int aLength, int lda, int bLength, int ldb, int cLength, int ldc)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), $"GEMM sizes must be non-negative: m={m}, n={n}, k={k}.");
        var (ar, ac) = transA ? (k, m) : (m, k);
        var (br, bc) = transB ? (n, k) : (k, n);
        Need("A", ar, ac, lda, aLength);
        Need("B", br, bc, ldb, bLength);
        Need("C", m, n, ldc, cLength);
    }

    private static void Need(string name, int rows, int cols, int ld, int length)
    {
        if (rows == 0 || cols == 0) return;
        if (ld < cols) throw new ArgumentException($"GEMM: leading dimension of {name} ({ld}) is smaller than its {cols} columns.");
        if ((long)(rows - 1) * ld + cols > length)
            throw new ArgumentException($"GEMM: {name} needs {(long)(rows - 1) * ld + cols} elements ({rows}×{cols}, ld {ld}) but has {length}.");
    }
}
