namespace Backprop.Plugins.Core;

/// <summary>
/// ONNX AveragePool, 1-D and 2-D (kernel_shape, strides, pads, count_include_pad). Linear: its adjoint
/// <see cref="AveragePoolGrad"/> spreads each gradient evenly over its window.
/// </summary>
internal sealed class AveragePool : LinearOp, IOpSamples
{
    public override OpSchema Schema { get; } = new("", "AveragePool", 1, 1, 1);

    internal static ConvGeometry Geometry(OpAttributes a, Shape x)
    {
        return ConvGeometry.Of("AveragePool", x, x.Dims[1], a.GetInts("kernel_shape"), a);
    }

    /// <summary>Calls <paramref name="visit"/>(output index, input index, 1/count) for every window element.</summary>
    internal static void Windows(ConvGeometry g, bool includePad, Action<int, int, double> visit)
    {
        var o = 0;
        for (var nc = 0; nc < g.N * g.C; nc++)
        for (var oh = 0; oh < g.OH; oh++)
        for (var ow = 0; ow < g.OW; ow++, o++)
        {
            var count = 0;
            for (var pass = 0; pass < 2; pass++)
            {
                for (var i = 0; i < g.KH; i++)
                {
                    var ih = oh * g.SH - g.PH + i * g.DH;
                    for (var j = 0; j < g.KW; j++)
                    {
                        var iw = ow * g.SW - g.PW + j * g.DW;
                        var inside = (uint)ih < (uint)g.H && (uint)iw < (uint)g.W;
                        var inPadding = ih >= -g.PH && ih < g.H + g.PHEnd && iw >= -g.PW && iw < g.W + g.PWEnd;
                        if (pass == 0) { if (inside || (includePad && inPadding)) count++; }
                        else if (inside) visit(o, (nc * g.H + ih) * g.W + iw, 1.0 / count);
                    }
                }
            }
        }
    }

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> inputs)
    {
        var x = inputs[0];
        if (!x.DType.IsFloatingPoint()) throw new DTypeException($"AveragePool takes float32 or float64, got {x.DType}.");
        var g = Geometry(ctx.Attributes, x.Shape);
        var src = x.ToDoubleArray();
        var y = new double[g.N * g.C * g.P];
        Windows(g, ctx.Attributes.GetLong("count_include_pad", 0) != 0, (o, i, w) => y[o] += w * src[i]);
        var shape = new Shape([g.N, g.C, .. (g.SpatialRank == 1 ? new[] { g.OW } : [g.OH, g.OW])]);
        return [Tensor.FromDoubles(y, shape, x.DType)];
    }

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) =>
        [Ops.Call(AveragePoolGrad.Instance, ctx.Attributes.With("input_shape", ctx.Input(0).Shape.ToArray()), g[0]!)];

    public IEnumerable<OpSample> Samples(Random rng)
    {
        Tensor U(params int[] s) => BinarySamples.U(rng, s, (-1, 1));
        yield return new OpSample("2x2 stride 2", [U(2, 2, 4, 6)], OpAttributes.Of(("kernel_shape", new[] { 2, 2 }), ("strides", new[] { 2, 2 })));
        yield return new OpSample("3x3 pads, excluding pad", [U(1, 2, 5, 5)], OpAttributes.Of(("kernel_shape", new[] { 3, 3 }), ("pads", new[] { 1, 1, 1, 1 })));
        yield return new OpSample("3x3 pads, including pad", [U(1, 1, 4, 5)], OpAttributes.Of(("kernel_shape", new[] { 3, 3 }), ("pads", new[] { 1, 1, 1, 1 }), ("count_include_pad", 1)));
        yield return new OpSample("1-D", [U(2, 3, 7)], OpAttributes.Of(("kernel_shape", new[] { 3 }), ("strides", new[] { 2 })));
    }
}

/// <summary>Adjoint of AveragePool: each output gradient spread over its window (attribute input_shape).</summary>
internal sealed class AveragePoolGrad : LinearOp
{
    public static readonly AveragePoolGrad Instance = new();

    public override OpSchema Schema { get; } = new(Ops.BackpropDomain, "AveragePoolGrad", 1, 1, 1);

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> inputs)
    {
        var shape = new Shape(ctx.Attributes.GetInts("input_shape"));
        var g = AveragePool.Geometry(ctx.Attributes, shape);
        var gy = inputs[0].ToDoubleArray();
        var dx = new double[shape.Size];
        AveragePool.Windows(g, ctx.Attributes.GetLong("count_include_pad", 0) != 0, (o, i, w) => dx[i] += w * gy[o]);
        return [Tensor.FromDoubles(dx, shape, inputs[0].DType)];
    }

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) => [Ops.Call("AveragePool", ctx.Attributes, g[0]!)];
}

/// <summary>ONNX GlobalAveragePool: the mean over all spatial axes, kept as size 1.</summary>
internal sealed class GlobalAveragePool : CompositeOp, IOpSamples
{
    public override OpSchema Schema { get; } = new("", "GlobalAveragePool", 1, 1, 1);

    public override Tensor[] Compose(ReadOnlySpan<Tensor> x, OpAttributes attributes)
    {
        if (x[0].Rank < 3) throw new ShapeException($"GlobalAveragePool: input must be [N, C, …spatial], got {x[0].Shape}.");
        return [Ops.ReduceMean(x[0], Enumerable.Range(2, x[0].Rank - 2).ToArray(), keepDims: true)];
    }

    public IEnumerable<OpSample> Samples(Random rng)
    {
        yield return new OpSample("[2,3,4,5]", BinarySamples.U(rng, [2, 3, 4, 5], (-1, 1)));
    }
}
