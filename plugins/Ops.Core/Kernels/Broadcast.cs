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
        // Same shapes or a scalar operand run as one span (split into rows of the last axis for the cores); only a real
        // broadcast needs the merged layout.
        var flat = a.Shape == b.Shape || (b.Size == 1 && a.Shape == y.Shape) || (a.Size == 1 && b.Shape == y.Shape);
        var layout = flat ? null : Layout.Of(a.Shape, b.Shape, y.Shape);
        var inner = layout?.Inner ?? (y.Rank == 0 ? 1 : y.Shape.Dims[^1]);
        var rows = total / inner;
        var threads = Environment.ProcessorCount;
        if (total < ParallelElements || threads < 2 || rows < 2)
        {
            RunRows<TK, T, TOut>(a, b, y, layout, inner, 0, rows);
            return;
        }
        KernelThreads.ForRanges(rows, threads, (first, last) => RunRows<TK, T, TOut>(a, b, y, layout, inner, first, last));
    }

    /// <summary>
    /// The output's axes with neighbours merged wherever both operands step through them as through one axis (a bias
    /// [1, C, 1, 1] over [N, C, H, W] becomes [N·C, H·W], rows of H·W values) and size-1 axes dropped, with each operand's
    /// strides; the kernel then runs on rows as long as the layouts allow instead of on the last axis alone.
    /// </summary>
    private sealed record Layout(int[] Dims, int[] StridesA, int[] StridesB)
    {
        public int Inner => Dims[^1];

        public static Layout Of(Shape a, Shape b, Shape y)
        {
            if (y.Rank == 0) return new([1], [0], [0]);
            var (sa, sb) = (a.BroadcastStrides(y), b.BroadcastStrides(y));
            var (dims, stA, stB) = (new List<int>(), new List<int>(), new List<int>());
            for (var d = y.Rank - 1; d >= 0; d--)
            {
                var n = y.Dims[d];
                if (n == 1 && dims.Count > 0) continue;
                var g = dims.Count - 1;
                if (g >= 0 && dims[g] > 1 && sa[d] == stA[g] * dims[g] && sb[d] == stB[g] * dims[g])
                {
                    dims[g] *= n;
                    continue;
                }
                if (g >= 0 && dims[g] == 1) (dims[g], stA[g], stB[g]) = (n, sa[d], sb[d]);
                else
                {
                    dims.Add(n);
                    stA.Add(sa[d]);
                    stB.Add(sb[d]);
                }
            }
            dims.Reverse();
            stA.Reverse();
            stB.Reverse();
            return new([.. dims], [.. stA], [.. stB]);
        }
    }

    /// <summary>Computes output rows [r0, r1) of <paramref name="inner"/> values: of <paramref name="layout"/>, or of one flat span when it is null.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void RunRows<TK, T, TOut>(Tensor a, Tensor b, Tensor y, Layout? layout, int inner, int r0, int r1)
        where TK : IBinaryKernel<TK, T, TOut> where T : unmanaged where TOut : unmanaged
    {
        var sa = a.Span<T>();
        var sb = b.Span<T>();
        var sy = y.Span<TOut>();
        var (e0, e1) = (r0 * inner, r1 * inner);
        if (layout is null)
        {
            if (a.Shape == b.Shape) TK.Contiguous(sa[e0..e1], sb[e0..e1], sy[e0..e1]);
            else if (b.Size == 1) TK.ScalarRight(sa[e0..e1], sb[0], sy[e0..e1]);
            else TK.ScalarLeft(sa[0], sb[e0..e1], sy[e0..e1]);
            return;
        }
        var (dims, stA, stB) = (layout.Dims, layout.StridesA, layout.StridesB);
        var rank = dims.Length;

        var ia = stA[rank - 1];
        var ib = stB[rank - 1];
        var index = new int[Math.Max(0, rank - 1)];
        int offA = 0, offB = 0;
        for (int d = rank - 2, r = r0; d >= 0; d--)
        {
            index[d] = r % dims[d];
            r /= dims[d];
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
                if (++index[d] < dims[d]) break;
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
