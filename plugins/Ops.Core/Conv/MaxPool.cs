namespace Backprop.Plugins.Core;

/// <summary>
/// ONNX MaxPool, 1-D and 2-D (kernel_shape, strides, pads, dilations); outputs Y and the int64 flat index of each
/// maximum in X. The gradient is scattered to those positions (<see cref="IndexScatter"/>), the tangent gathered.
/// </summary>
internal sealed class MaxPool : IDifferentiableOp, IOpSamples
{
    public OpSchema Schema { get; } = new("", "MaxPool", 1, 1, 1, Outputs: 2);

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> inputs)
    {
        var x = inputs[0];
        if (!x.DType.IsFloatingPoint()) throw new DTypeException($"MaxPool takes float32 or float64, got {x.DType}.");
        var k = ctx.Attributes.GetInts("kernel_shape");
        var g = ConvGeometry.Of("MaxPool", x.Shape, x.Shape[1], k, ctx.Attributes);
        var shape = new Shape([g.N, g.C, .. (g.SpatialRank == 1 ? new[] { g.OW } : [g.OH, g.OW])]);
        var y = Tensor.Empty(shape, x.DType);
        var indices = Tensor.Empty(shape, DType.Int64);
        var simple = g is { KH: 2, KW: 2, SH: 2, SW: 2, PH: 0, PW: 0, PHEnd: 0, PWEnd: 0, DH: 1, DW: 1 } && g.SpatialRank == 2
            && 2L * g.OH <= g.H && 2L * g.OW <= g.W; // ceil_mode can add a window that sticks out
        unsafe
        {
            if (x.DType == DType.Float32) Planes(x.Span<float>(), y.Span<float>(), indices.Span<long>(), g, simple ? Pool2x2 : Pool);
            else Planes(x.Span<double>(), y.Span<double>(), indices.Span<long>(), g, simple ? Pool2x2 : Pool);
        }
        return [y, indices];
    }

    /// <summary>Runs <paramref name="planeKernel"/> over the N·C planes, split across cores when there is enough work.</summary>
    private static unsafe void Planes<T>(ReadOnlySpan<T> src, Span<T> values, Span<long> indices, ConvGeometry g, PlaneKernel<T> planeKernel) where T : unmanaged
    {
        var planes = g.N * g.C;
        var threads = (long)planes * g.OH * g.OW * g.KH * g.KW >= 1 << 15 ? Environment.ProcessorCount : 1;
        fixed (T* ps = src, pv = values)
        fixed (long* pi = indices)
        {
            var (s, v, ix) = ((nint)ps, (nint)pv, (nint)pi);
            KernelThreads.ForRanges(planes, threads, (first, last) =>
            {
                for (var plane = first; plane < last; plane++) planeKernel((T*)s, (T*)v, (long*)ix, plane, g);
            });
        }
    }

    private unsafe delegate void PlaneKernel<T>(T* src, T* values, long* indices, int plane, ConvGeometry g) where T : unmanaged;

    /// <summary>
    /// The common 2×2, stride-2 window on one plane: the row pair is reduced with a SIMD max first (NaN-propagating), then
    /// each output takes the larger of two neighbours and the index of the first (row-major) input holding it, as the
    /// general kernel picks it.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Pool2x2<T>(T* src, T* values, long* indices, int plane, ConvGeometry g) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int w = g.W, oh = g.OH, ow = g.OW;
        long planeStart = (long)plane * g.H * w, o = (long)plane * oh * ow;
        Span<T> rowMax = w <= 2048 ? stackalloc T[w] : new T[w];
        for (var y = 0; y < oh; y++, o += ow)
        {
            var r0 = planeStart + 2L * y * w;
            T* top = src + r0, bottom = top + w;
            System.Numerics.Tensors.TensorPrimitives.Max(new ReadOnlySpan<T>(top, w), new ReadOnlySpan<T>(bottom, w), rowMax);
            for (var x = 0; x < ow; x++)
            {
                var c = 2 * x;
                var best = T.Max(rowMax[c], rowMax[c + 1]);
                values[o + x] = best;
                indices[o + x] = Same(top[c], best) ? r0 + c : Same(top[c + 1], best) ? r0 + c + 1 : Same(bottom[c], best) ? r0 + w + c : r0 + w + c + 1;
            }
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static bool Same<T>(T v, T best) where T : System.Numerics.IFloatingPointIeee754<T> => v == best || (T.IsNaN(v) && T.IsNaN(best));

    /// <summary>
    /// Any window on one plane. Per output row, the window's rows inside the image are reduced column-wise with a SIMD max
    /// first (NaN-propagating); each output then takes the max of its columns of that row and the index of the first
    /// (row-major) input holding it, found by a short scan of the window — so the first maximum wins and a NaN propagates.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Pool<T>(T* src, T* values, long* indices, int plane, ConvGeometry g) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        // Geometry in locals: the JIT cannot keep fields of a heap object in registers across stores through pointers.
        int h = g.H, w = g.W, oh = g.OH, ow = g.OW, kh = g.KH, kw = g.KW;
        int sh = g.SH, sw = g.SW, ph = g.PH, pw = g.PW, dh = g.DH, dw = g.DW;
        long planeStart = (long)plane * h * w, o = (long)plane * oh * ow;
        Span<T> column = w <= 2048 ? stackalloc T[w] : new T[w];
        for (var y = 0; y < oh; y++)
        {
            var top = y * sh - ph;
            var (i0, i1) = Inside(top, dh, kh, h);
            if (i0 < i1)
            {
                new ReadOnlySpan<T>(src + planeStart + (long)(top + i0 * dh) * w, w).CopyTo(column);
                for (var i = i0 + 1; i < i1; i++)
                    System.Numerics.Tensors.TensorPrimitives.Max(column, new ReadOnlySpan<T>(src + planeStart + (long)(top + i * dh) * w, w), column);
            }
            for (var x = 0; x < ow; x++, o++)
            {
                var iw0 = x * sw - pw;
                var (j0, j1) = Inside(iw0, dw, kw, w);
                if (i0 >= i1 || j0 >= j1)
                {
                    values[o] = T.NegativeInfinity;
                    indices[o] = planeStart;
                    continue;
                }
                var best = column[iw0 + j0 * dw];
                for (var j = j0 + 1; j < j1; j++) best = T.Max(best, column[iw0 + j * dw]);
                values[o] = best;
                indices[o] = First(src, planeStart + (long)top * w + iw0, w, i0, i1, dh, j0, j1, dw, best);
            }
        }
    }

    /// <summary>Flat index of the first tap (row-major) of a window equal to <paramref name="best"/> (NaN matching NaN).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static unsafe long First<T>(T* src, long origin, int w, int i0, int i1, int dh, int j0, int j1, int dw, T best) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        for (var i = i0; i < i1; i++)
        {
            var row = origin + (long)i * dh * w;
            for (var j = j0; j < j1; j++)
            {
                if (Same(src[row + j * dw], best)) return row + j * dw;
            }
        }
        return origin + (long)i0 * dh * w + j0 * dw; // unreachable: best is one of the taps
    }

    /// <summary>Window taps [lo, hi) whose position start + tap·dilation lies in [0, size).</summary>
    internal static (int Lo, int Hi) Inside(int start, int dilation, int taps, int size)
    {
        var lo = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
        var hi = start >= size ? 0 : Math.Min(taps, (size - 1 - start) / dilation + 1);
        return (Math.Min(lo, taps), Math.Max(hi, 0));
    }

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) =>
        [g[0] is { } gy ? Ops.Call(IndexScatter.Instance, OpAttributes.Of(("shape", ctx.Input(0).Shape.ToArray())), gy, ctx.Output(1)) : null];

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t) =>
        [Ops.Call(IndexGather.Instance, OpAttributes.Empty, t[0]!, ctx.Output(1)), null];

    public IEnumerable<OpSample> Samples(Random rng)
    {
        yield return new OpSample("2x2 stride 2", [ReduceSamples.Distinct(rng, [2, 3, 6, 6])], OpAttributes.Of(("kernel_shape", new[] { 2, 2 }), ("strides", new[] { 2, 2 })));
        yield return new OpSample("3x3 stride 1 pads 1", [ReduceSamples.Distinct(rng, [1, 2, 5, 4])], OpAttributes.Of(("kernel_shape", new[] { 3, 3 }), ("pads", new[] { 1, 1, 1, 1 })));
        yield return new OpSample("1-D 3 stride 2", [ReduceSamples.Distinct(rng, [2, 2, 9])], OpAttributes.Of(("kernel_shape", new[] { 3 }), ("strides", new[] { 2 })));
    }
}
