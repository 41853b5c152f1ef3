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
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Run<TK, T, TOut>(Tensor a, Tensor b, Tensor y)
        where TK : IBinaryKernel<TK, T, TOut> where T : unmanaged where TOut : unmanaged
    {
        var sa = a.Span<T>();
        var sb = b.Span<T>();
        var sy = y.Span<TOut>();
        if (sy.Length == 0) return;
        if (a.Shape == b.Shape) { TK.Contiguous(sa, sb, sy); return; }
        if (b.Size == 1 && a.Shape == y.Shape) { TK.ScalarRight(sa, sb[0], sy); return; }
        if (a.Size == 1 && b.Shape == y.Shape) { TK.ScalarLeft(sa[0], sb, sy); return; }

        var shape = y.Shape;
        var rank = shape.Rank;
        var stA = a.Shape.BroadcastStrides(shape);
        var stB = b.Shape.BroadcastStrides(shape);
        var inner = shape.Dims[rank - 1];
        var ia = stA[rank - 1];
        var ib = stB[rank - 1];
        var index = new int[rank - 1];
        int offA = 0, offB = 0;
        for (var o = 0; o < sy.Length; o += inner)
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
