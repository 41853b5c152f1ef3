namespace Backprop.Plugins.Core;

/// <summary>Strided gathers: one routine serves transpose, expand and slice.</summary>
internal static class Strided
{
    /// <summary>
    /// Writes dst (contiguous, <paramref name="shape"/>) from src read at offset + Σ index·stride. Large copies are split
    /// by rows of the last axis across the kernel threads (a transpose of attention heads: 12,288 runs of 32 values).
    /// </summary>
    public static unsafe void Copy<T>(ReadOnlySpan<T> src, int offset, ReadOnlySpan<int> strides, Span<T> dst, Shape shape) where T : unmanaged
    {
        if (dst.Length == 0) return;
        if (shape.Rank == 0) { dst[0] = src[offset]; return; }
        var rows = dst.Length / shape.Dims[^1];
        if (dst.Length < 2 * SpanParallel.Piece || rows < 2)
        {
            CopyRows(src, offset, strides, dst, shape, 0, rows);
            return;
        }
        var steps = strides.ToArray();
        fixed (T* ps = src, pd = dst)
        {
            var (from, to, sourceLength, length) = ((IntPtr)ps, (IntPtr)pd, src.Length, dst.Length);
            KernelThreads.ForRanges(rows, KernelThreads.Threads, (first, last) =>
                CopyRows(new ReadOnlySpan<T>((T*)from, sourceLength), offset, steps, new Span<T>((T*)to, length), shape, first, last));
        }
    }

    /// <summary>Rows [first, last) of <see cref="Copy{T}"/>, a row being one run along the last axis.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void CopyRows<T>(ReadOnlySpan<T> src, int offset, ReadOnlySpan<int> strides, Span<T> dst, Shape shape, int first, int last)
    {
        var rank = shape.Rank;
        var inner = shape.Dims[rank - 1];
        var innerStride = strides[rank - 1];
        var index = new int[rank];
        var pos = offset;
        for (int d = rank - 2, rest = first; d >= 0; d--)
        {
            index[d] = rest % shape.Dims[d];
            rest /= shape.Dims[d];
            pos += index[d] * strides[d];
        }
        for (var o = first * inner; o < last * inner; o += inner)
        {
            if (innerStride == 1) src.Slice(pos, inner).CopyTo(dst.Slice(o, inner));
            else
            {
                var p = pos;
                for (var j = 0; j < inner; j++, p += innerStride) dst[o + j] = src[p];
            }
            for (var d = rank - 2; d >= 0; d--)
            {
                pos += strides[d];
                if (++index[d] < shape.Dims[d]) break;
                pos -= strides[d] * index[d];
                index[d] = 0;
            }
        }
    }

    /// <summary>Adds src (contiguous, <paramref name="shape"/>) into dst at offset + Σ index·stride (scatter-add).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void ScatterAdd<T>(ReadOnlySpan<T> src, Span<T> dst, int offset, ReadOnlySpan<int> strides, Shape shape)
        where T : unmanaged, System.Numerics.IAdditionOperators<T, T, T>
    {
        if (src.Length == 0) return;
        var rank = shape.Rank;
        if (rank == 0) { dst[offset] += src[0]; return; }
        var index = new int[rank];
        var pos = offset;
        for (var i = 0; i < src.Length; i++)
        {
            dst[pos] += src[i];
            for (var d = rank - 1; d >= 0; d--)
            {
                pos += strides[d];
                if (++index[d] < shape.Dims[d]) break;
                pos -= strides[d] * index[d];
                index[d] = 0;
            }
        }
    }

    /// <summary>Writes src (contiguous, <paramref name="shape"/>) into dst at offset + Σ index·stride.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Place<T>(ReadOnlySpan<T> src, Span<T> dst, int offset, ReadOnlySpan<int> strides, Shape shape)
    {
        if (src.Length == 0) return;
        var rank = shape.Rank;
        if (rank == 0) { dst[offset] = src[0]; return; }
        var index = new int[rank];
        var pos = offset;
        for (var i = 0; i < src.Length; i++)
        {
            dst[pos] = src[i];
            for (var d = rank - 1; d >= 0; d--)
            {
                pos += strides[d];
                if (++index[d] < shape.Dims[d]) break;
                pos -= strides[d] * index[d];
                index[d] = 0;
            }
        }
    }

    /// <summary>Dispatches <see cref="Copy{T}"/> on the tensor's dtype, allocating the output.</summary>
    public static Tensor Gather(Tensor x, int offset, ReadOnlySpan<int> strides, Shape shape)
    {
        var y = Tensor.Empty(shape, x.DType);
        switch (x.DType)
        {
            case DType.Float32: Copy(x.Span<float>(), offset, strides, y.Span<float>(), shape); break;
            case DType.Float64: Copy(x.Span<double>(), offset, strides, y.Span<double>(), shape); break;
            case DType.Int64: Copy(x.Span<long>(), offset, strides, y.Span<long>(), shape); break;
            case DType.Bool: Copy(x.Span<bool>(), offset, strides, y.Span<bool>(), shape); break;
        }
        return y;
    }

    /// <summary>Scatter-adds float <paramref name="src"/> into a zero tensor of <paramref name="target"/> shape.</summary>
    public static Tensor ScatterIntoZeros(Tensor src, Shape target, int offset, ReadOnlySpan<int> strides)
    {
        var y = Tensor.Zeros(target, src.DType);
        switch (src.DType)
        {
            case DType.Float32: ScatterAdd(src.Span<float>(), y.Span<float>(), offset, strides, src.Shape); break;
            case DType.Float64: ScatterAdd(src.Span<double>(), y.Span<double>(), offset, strides, src.Shape); break;
            default: throw new DTypeException($"Scatter takes floating-point tensors, got {src.DType}.");
        }
        return y;
    }
}
