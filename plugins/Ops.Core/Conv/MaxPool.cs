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
            if (x.DType == DType.Float32) Planes(x.Span<float>(), y.Span<float>(), indices.Span<long>(), g, simple ? MaxPool2x2.Plane : MaxPoolWindows.Plane);
            else Planes(x.Span<double>(), y.Span<double>(), indices.Span<long>(), g, simple ? MaxPool2x2.Plane : MaxPoolWindows.Plane);
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

    internal unsafe delegate void PlaneKernel<T>(T* src, T* values, long* indices, int plane, ConvGeometry g) where T : unmanaged;

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
