namespace Backprop.Plugins.Core;

/// <summary>Splits along attribute "axis" into pieces of attribute "split". The VJP concatenates the gradients (zeros for unused pieces).</summary>
internal sealed class Split : LinearOp, IOpSamples
{
    public override OpSchema Schema { get; } = new("", "Split", 1, 1, 1, Outputs: -1);

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var input = x[0];
        var axis = Shape.NormalizeAxis(ctx.Attributes.GetInt("axis", 0), input.Rank);
        var sizes = ctx.Attributes.GetInts("split");
        if (sizes.Any(s => s < 0) || sizes.Sum() != input.Shape.Dims[axis])
            throw new ShapeException($"Split: sizes [{string.Join(", ", sizes)}] do not add up to dimension {axis} of {input.Shape}.");
        var outputs = new Tensor[sizes.Length];
        var at = 0;
        for (var i = 0; i < sizes.Length; i++)
        {
            var s = SliceSpec.Of(OpAttributes.Of(("starts", new[] { at }), ("ends", new[] { at + sizes[i] }), ("axes", new[] { axis })), input.Shape);
            outputs[i] = Strided.Gather(input, s.Offset, s.Strides, s.Shape);
            at += sizes[i];
        }
        return outputs;
    }

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g)
    {
        var parts = new Tensor[g.Length];
        for (var i = 0; i < g.Length; i++) parts[i] = g[i] ?? Tensor.ZerosLike(ctx.Output(i));
        return [Ops.Concat(ctx.Attributes.GetInt("axis", 0), parts)];
    }

    public IEnumerable<OpSample> Samples(Random rng)
    {
        yield return ShapeSamples.One(rng, [7], ("axis", 0), ("split", new[] { 2, 5 }));
        yield return ShapeSamples.One(rng, [2, 6, 3], ("axis", 1), ("split", new[] { 1, 2, 3 }));
        yield return ShapeSamples.One(rng, [4, 3], ("axis", -1), ("split", new[] { 3, 0 }));
    }
}
