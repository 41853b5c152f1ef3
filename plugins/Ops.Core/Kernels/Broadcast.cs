using System.Numerics;

namespace Backprop.Plugins.Core;

/// <summary>A binary elementwise operation with scalar and contiguous-span forms.</summary>
internal interface IBinaryKernel<TSelf, T, TOut>
    where TSelf : IBinaryKernel<TSelf, T, TOut>
    where T : unmanaged
    where TOut : unmanaged
{
    static abstract TOut Apply(T a, T b);

    static virtual void Contiguous(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<TOut> y)
    {
        for (var i = 0; i < y.Length; i++) y[i] = TSelf.Apply(a[i], b[i]);
    }

    static virtual void ScalarLeft(T a, ReadOnlySpan<T> b, Span<TOut> y)
    {
        for (var i = 0; i < y.Length; i++) y[i] = TSelf.Apply(a, b[i]);
    }

    static virtual void ScalarRight(ReadOnlySpan<T> a, T b, Span<TOut> y)
    {
        for (var i = 0; i < y.Length; i++) y[i] = TSelf.Apply(a[i], b);
    }
}

/// <summary>NumPy-broadcasting driver: contiguous inner rows go to the kernel's span forms.</summary>
internal static class Broadcast
{
    /// <summary>Outputs at least this large are split across the kernel threads (whole inner rows per part).</summary>
    private const int ParallelElements = 1 << 16;

    public static void Run<TK, T, TOut>(Tensor a, Tensor b, Tensor y)
        where TK : IBinaryKernel<TK, T, TOut> where T : unmanaged where TOut : unmanaged
    {
        var total = y.Size;
        if (total == 0) return;
        var inner = y.Rank == 0 ? 1 : y.Shape.Dims[y.Rank - 1];
        var rows = total / inner;
        var threads = Environment.ProcessorCount;
        if (total < ParallelElements || threads < 2 || rows < 2)
        {
            RunRows<TK, T, TOut>(a, b, y, 0, rows);
            return;
        }
        KernelThreads.ForRanges(rows, threads, (first, last) => RunRows<TK, T, TOut>(a, b, y, first, last));
    }

    /// <summary>Computes output rows [r0, r1) (a row = the last axis).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void RunRows<TK, T, TOut>(Tensor a, Tensor b, Tensor y, int r0, int r1)
        where TK : IBinaryKernel<TK, T, TOut> where T : unmanaged where TOut : unmanaged
    {
        var sa = a.Span<T>();
        var sb = b.Span<T>();
        var sy = y.Span<TOut>();
        var shape = y.Shape;
        var rank = shape.Rank;
        var inner = rank == 0 ? 1 : shape.Dims[rank - 1];
        var (e0, e1) = (r0 * inner, r1 * inner);
        if (a.Shape == b.Shape) { TK.Contiguous(sa[e0..e1], sb[e0..e1], sy[e0..e1]); return; }
        if (b.Size == 1 && a.Shape == shape) { TK.ScalarRight(sa[e0..e1], sb[0], sy[e0..e1]); return; }
        if (a.Size == 1 && b.Shape == shape) { TK.ScalarLeft(sa[0], sb[e0..e1], sy[e0..e1]); return; }

        var stA = a.Shape.BroadcastStrides(shape);
        var stB = b.Shape.BroadcastStrides(shape);
        var ia = stA[rank - 1];
        var ib = stB[rank - 1];
        var index = new int[rank - 1];
        int offA = 0, offB = 0;
        for (int d = rank - 2, r = r0; d >= 0; d--)
        {
            index[d] = r % shape.Dims[d];
            r /= shape.Dims[d];
            offA += index[d] * stA[d];
            offB += index[d] * stB[d];
        }
        for (var o = e0; o < e1; o += inner)
        {
            var row = sy.Slice(o, inner);
            if (ia == 1 && ib == 1) TK.Contiguous(sa.Slice(offA, inner), sb.Slice(offB, inner), row);
            else if (ia == 0 && ib == 1) TK.ScalarLeft(sa[offA], sb.Slice(offB, inner), row);
            else if (ia == 1 && ib == 0) TK.ScalarRight(sa.Slice(offA, inner), sb[offB], row);
            else row.Fill(TK.Apply(sa[offA], sb[offB]));
            for (var d = rank - 2; d >= 0; d--)
            {
                offA += stA[d];
                offB += stB[d];
                if (++index[d] < shape.Dims[d]) break;
                offA -= stA[d] * index[d];
                offB -= stB[d] * index[d];
                index[d] = 0;
            }
        }
    }

    /// <summary>Runs a float kernel pair on two same-dtype floating-point tensors, allocating the output.</summary>
    public static Tensor Float<TF, TD>(string op, Tensor a, Tensor b)
        where TF : IBinaryKernel<TF, float, float> where TD : IBinaryKernel<TD, double, double>
    {
        var dtype = FloatOperands(op, a, b);
        var y = Tensor.Empty(Shape.Broadcast(a.Shape, b.Shape), dtype);
        if (dtype == DType.Float32) Run<TF, float, float>(a, b, y);
        else Run<TD, double, double>(a, b, y);
        return y;
    }

    public static DType FloatOperands(string op, Tensor a, Tensor b)
    {
        if (a.DType != b.DType) throw new DTypeException($"{op}: operands have dtypes {a.DType} and {b.DType}; cast one first.");
        if (!a.DType.IsFloatingPoint()) throw new DTypeException($"{op} takes float32 or float64, got {a.DType}.");
        return a.DType;
    }
}

/// <summary>Generic scalar helpers.</summary>
internal static class Num
{
    public static T From<T>(double v) where T : INumberBase<T> => T.CreateChecked(v);
}
