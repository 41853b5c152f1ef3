namespace Backprop.Plugins.Core;

/// <summary>Constant padding (attributes pads = [begin₀…, end₀…] ≥ 0, value). The VJP slices the gradient back out.</summary>
internal sealed class Pad : IDifferentiableOp, IOpSamples
{
    public OpSchema Schema { get; } = OpSchema.Of("Pad", 1);

    private static int[] Pads(OpContext ctx, int rank)
    {
        var pads = ctx.Attributes.GetInts("pads");
        if (pads.Length != 2 * rank) throw new AttributeException($"Pad: pads has {pads.Length} entries; a rank-{rank} input needs {2 * rank}.");
        if (pads.Any(p => p < 0)) throw new AttributeException($"Pad: negative pads [{string.Join(", ", pads)}] are not supported; slice instead.");
        return pads;
    }

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var input = x[0];
        var pads = Pads(ctx, input.Rank);
        var dims = input.Shape.ToArray().Select((d, i) => d + pads[i] + pads[i + input.Rank]).ToArray();
        var y = Tensor.Full(new Shape(dims), ctx.Attributes.GetDouble("value", 0), input.DType);
        var strides = y.Shape.Strides();
        var offset = Enumerable.Range(0, input.Rank).Sum(i => pads[i] * strides[i]);
        switch (input.DType)
        {
            case DType.Float32: Strided.Place(input.Span<float>(), y.Span<float>(), offset, strides, input.Shape); break;
            case DType.Float64: Strided.Place(input.Span<double>(), y.Span<double>(), offset, strides, input.Shape); break;
            default: throw new DTypeException($"Pad takes float32 or float64, got {input.DType}.");
        }
        return [y];
    }

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) => [Crop(ctx, g[0]!)];

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t) =>
        [Ops.Pad(t[0]!, ctx.Attributes.GetInts("pads"), 0)];

    private static Tensor Crop(OpContext ctx, Tensor g)
    {
        var rank = ctx.Input(0).Rank;
        var pads = Pads(ctx, rank);
        var dims = ctx.Input(0).Shape.ToArray();
        return Ops.Slice(g, pads[..rank], Enumerable.Range(0, rank).Select(i => pads[i] + dims[i]).ToArray());
    }

    public IEnumerable<OpSample> Samples(Random rng)
    {
        yield return ShapeSamples.One(rng, [5], ("pads", new[] { 2, 1 }), ("value", 0.5));
        yield return ShapeSamples.One(rng, [2, 3], ("pads", new[] { 1, 0, 0, 2 }), ("value", 0.0));
    }
}
