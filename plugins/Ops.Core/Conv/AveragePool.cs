using System.Numerics;

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

    /// <summary>Runs <paramref name="body"/>(plane, first output row, end row) over every plane, split across cores when there is enough work.</summary>
    internal static void Outputs(ConvGeometry g, Action<int, int, int> body)
    {
        var planes = g.N * g.C;
        var threads = (long)planes * g.P * g.KH * g.KW >= 1 << 15 ? Environment.ProcessorCount : 1;
        KernelThreads.ForRanges(planes, threads, (first, last) =>
        {
            for (var plane = first; plane < last; plane++) body(plane, 0, g.OH);
        });
    }

    /// <summary>
    /// Taps of output (oh, ow) that count toward its mean: those inside the input, or inside input and pads with
    /// count_include_pad.
    /// </summary>
    internal static int Count(ConvGeometry g, bool includePad, int oh, int ow)
    {
        var (rows, cols) = (0, 0);
        for (var i = 0; i < g.KH; i++)
        {
            var ih = oh * g.SH - g.PH + i * g.DH;
            if (includePad ? ih >= -g.PH && ih < g.H + g.PHEnd : (uint)ih < (uint)g.H) rows++;
        }
        for (var j = 0; j < g.KW; j++)
        {
            var iw = ow * g.SW - g.PW + j * g.DW;
            if (includePad ? iw >= -g.PW && iw < g.W + g.PWEnd : (uint)iw < (uint)g.W) cols++;
        }
        return rows * cols;
    }

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> inputs)
    {
        var x = inputs[0];
        if (!x.DType.IsFloatingPoint()) throw new DTypeException($"AveragePool takes float32 or float64, got {x.DType}.");
        var g = Geometry(ctx.Attributes, x.Shape);
        var y = Tensor.Empty(new Shape([g.N, g.C, .. (g.SpatialRank == 1 ? new[] { g.OW } : [g.OH, g.OW])]), x.DType);
        var includePad = ctx.Attributes.GetLong("count_include_pad", 0) != 0;
        if (x.DType == DType.Float32) Means<float>(x, y, g, includePad);
        else Means<double>(x, y, g, includePad);
        return [y];
    }

    /// <summary>
    /// Whether the one window covers the whole plane (a global average written as AveragePool, as in ResNet exports whose
    /// last pool is 7 × 7 on 7 × 7): then each plane is one sum, and its gradient one fill.
    /// </summary>
    internal static bool WholePlane(ConvGeometry g) =>
        g is { OH: 1, OW: 1, PH: 0, PW: 0, PHEnd: 0, PWEnd: 0 } && g.KH == g.H && g.KW == g.W;

    private static void Means<T>(Tensor x, Tensor y, ConvGeometry g, bool includePad) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (WholePlane(g))
        {
            ReadOnlySpan<T> input = x.Span<T>();
            var output = y.Span<T>();
            var size = g.H * g.W;
            for (var plane = 0; plane < g.N * g.C; plane++)
                output[plane] = System.Numerics.Tensors.TensorPrimitives.Sum<T>(input.Slice(plane * size, size)) / T.CreateTruncating(size);
            return;
        }
        Outputs(g, (plane, y0, y1) =>
        {
            ReadOnlySpan<T> src = x.Span<T>().Slice(plane * g.H * g.W, g.H * g.W);
            var dst = y.Span<T>().Slice(plane * g.P, g.P);
            for (var oh = y0; oh < y1; oh++)
            for (var ow = 0; ow < g.OW; ow++)
            {
                var sum = T.Zero;
                for (var i = 0; i < g.KH; i++)
                {
                    var ih = oh * g.SH - g.PH + i * g.DH;
                    if ((uint)ih >= (uint)g.H) continue;
                    var row = src.Slice(ih * g.W, g.W);
                    for (var j = 0; j < g.KW; j++)
                    {
                        var iw = ow * g.SW - g.PW + j * g.DW;
                        if ((uint)iw < (uint)g.W) sum += row[iw];
                    }
                }
                var count = Count(g, includePad, oh, ow);
                dst[oh * g.OW + ow] = count == 0 ? T.Zero : sum / T.CreateTruncating(count);
            }
        });
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
        var gy = inputs[0];
        if (!gy.DType.IsFloatingPoint()) throw new DTypeException($"AveragePoolGrad takes float32 or float64, got {gy.DType}.");
        var dx = AveragePool.WholePlane(g) ? Tensor.Empty(shape, gy.DType) : Tensor.Zeros(shape, gy.DType);
        var includePad = ctx.Attributes.GetLong("count_include_pad", 0) != 0;
        if (gy.DType == DType.Float32) Spread<float>(gy, dx, g, includePad);
        else Spread<double>(gy, dx, g, includePad);
        return [dx];
    }

    private static void Spread<T>(Tensor gy, Tensor dx, ConvGeometry g, bool includePad) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (AveragePool.WholePlane(g))
        {
            ReadOnlySpan<T> input = gy.Span<T>();
            var output = dx.Span<T>();
            var size = g.H * g.W;
            for (var plane = 0; plane < g.N * g.C; plane++) output.Slice(plane * size, size).Fill(input[plane] / T.CreateTruncating(size));
            return;
        }
        AveragePool.Outputs(g, (plane, y0, y1) =>
        {
            ReadOnlySpan<T> src = gy.Span<T>().Slice(plane * g.P, g.P);
            var dst = dx.Span<T>().Slice(plane * g.H * g.W, g.H * g.W);
            for (var oh = y0; oh < y1; oh++)
            for (var ow = 0; ow < g.OW; ow++)
            {
                var count = AveragePool.Count(g, includePad, oh, ow);
                if (count == 0) continue;
                var share = src[oh * g.OW + ow] / T.CreateTruncating(count);
                for (var i = 0; i < g.KH; i++)
                {
                    var ih = oh * g.SH - g.PH + i * g.DH;
                    if ((uint)ih >= (uint)g.H) continue;
                    for (var j = 0; j < g.KW; j++)
                    {
                        var iw = ow * g.SW - g.PW + j * g.DW;
                        if ((uint)iw < (uint)g.W) dst[ih * g.W + iw] += share;
                    }
                }
            }
        });
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
