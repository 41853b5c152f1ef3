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
        if (ctx.Attributes.GetLong("ceil_mode", 0) != 0) throw new AttributeException("MaxPool: ceil_mode=1 is not supported.");
        var g = ConvGeometry.Of("MaxPool", x.Shape, x.Shape[1], k, ctx.Attributes);
        var src = x.ToDoubleArray();
        var values = new double[g.N * g.C * g.P];
        var indices = new long[values.Length];
        var o = 0;
        for (var nc = 0; nc < g.N * g.C; nc++)
        for (var oh = 0; oh < g.OH; oh++)
        for (var ow = 0; ow < g.OW; ow++, o++)
        {
            var best = double.NegativeInfinity;
            var at = -1L;
            for (var i = 0; i < g.KH; i++)
            {
                var ih = oh * g.SH - g.PH + i * g.DH;
                if ((uint)ih >= (uint)g.H) continue;
                for (var j = 0; j < g.KW; j++)
                {
                    var iw = ow * g.SW - g.PW + j * g.DW;
                    if ((uint)iw >= (uint)g.W) continue;
                    var flat = ((long)nc * g.H + ih) * g.W + iw;
                    if (at < 0 || src[flat] > best || double.IsNaN(src[flat])) { best = src[flat]; at = flat; }
                }
            }
            values[o] = best;
            indices[o] = at;
        }
        var shape = new Shape([g.N, g.C, .. (g.SpatialRank == 1 ? new[] { g.OW } : [g.OH, g.OW])]);
        return [Tensor.FromDoubles(values, shape, x.DType), Tensor.FromArray(indices, shape.ToArray())];
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
