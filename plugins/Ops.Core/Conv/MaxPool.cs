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
        var simple = g is { KH: 2, KW: 2, SH: 2, SW: 2, PH: 0, PW: 0, PHEnd: 0, PWEnd: 0, DH: 1, DW: 1 } && g.SpatialRank == 2;
        if (x.DType == DType.Float32)
        {
            if (simple) Pool2x2(x.Span<float>(), y.Span<float>(), indices.Span<long>(), g);
            else Pool(x.Span<float>(), y.Span<float>(), indices.Span<long>(), g);
        }
        else
        {
            if (simple) Pool2x2(x.Span<double>(), y.Span<double>(), indices.Span<long>(), g);
            else Pool(x.Span<double>(), y.Span<double>(), indices.Span<long>(), g);
        }
        return [y, indices];
    }

    /// <summary>
    /// The common 2×2, stride-2 window: the row pair is reduced with a SIMD max first, then each output takes the larger of
    /// two neighbours and its index is picked by comparison (no floating-point dependency chain).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Pool2x2<T>(ReadOnlySpan<T> src, Span<T> values, Span<long> indices, ConvGeometry g) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int h = g.H, w = g.W, oh = g.OH, ow = g.OW;
        Span<T> rowMax = w <= 4096 ? stackalloc T[w] : new T[w];
        var o = 0;
        for (var plane = 0; plane < g.N * g.C; plane++)
        {
            var planeStart = plane * h * w;
            for (var y = 0; y < oh; y++, o += ow)
            {
                var r0 = planeStart + 2 * y * w;
                var top = src.Slice(r0, w);
                var bottom = src.Slice(r0 + w, w);
                System.Numerics.Tensors.TensorPrimitives.Max(top, bottom, rowMax);
                var outValues = values.Slice(o, ow);
                var outIndices = indices.Slice(o, ow);
                for (var x = 0; x < ow; x++)
                {
                    var (a, b) = (rowMax[2 * x], rowMax[2 * x + 1]);
                    var best = T.Max(a, b);
                    outValues[x] = best;
                    var c = 2 * x;
                    // First position (row-major within the window) holding the maximum, as the general kernel picks it.
                    outIndices[x] = top[c] == best ? r0 + c : top[c + 1] == best ? r0 + c + 1 : bottom[c] == best ? r0 + w + c : r0 + w + c + 1;
                }
            }
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Pool<T>(ReadOnlySpan<T> src, Span<T> values, Span<long> indices, ConvGeometry g) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        // Geometry in locals: the JIT cannot keep fields of a heap object in registers across stores to the spans.
        int planes = g.N * g.C, h = g.H, w = g.W, oh = g.OH, ow = g.OW, kh = g.KH, kw = g.KW;
        int sh = g.SH, sw = g.SW, ph = g.PH, pw = g.PW, dh = g.DH, dw = g.DW;
        var o = 0;
        for (var nc = 0; nc < planes; nc++)
        {
            var planeStart = nc * h * w;
            for (var y = 0; y < oh; y++)
            for (var x = 0; x < ow; x++, o++)
            {
                var best = T.NegativeInfinity;
                var at = -1;
                for (var i = 0; i < kh; i++)
                {
                    var ih = y * sh - ph + i * dh;
                    if ((uint)ih >= (uint)h) continue;
                    var rowStart = planeStart + ih * w;
                    for (var j = 0; j < kw; j++)
                    {
                        var iw = x * sw - pw + j * dw;
                        if ((uint)iw >= (uint)w) continue;
                        // Branch-free: window maxima of noisy activations defeat branch prediction, so the value goes
                        // through a max instruction and only the integer index is selected (a conditional move).
                        var next = T.Max(best, src[rowStart + iw]);
                        at = next != best ? rowStart + iw : at;
                        best = next;
                    }
                }
                values[o] = best;
                indices[o] = at < 0 ? planeStart : at;
            }
        }
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
