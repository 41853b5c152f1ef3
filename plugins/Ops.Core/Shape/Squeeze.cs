namespace Backprop.Plugins.Core;

/// <summary>Removes size-1 axes (attribute "axes"; all of them when empty). A reshape, sharing the buffer.</summary>
internal sealed class Squeeze : LinearOp, IOpSamples
{
    public override OpSchema Schema { get; } = OpSchema.Of("Squeeze", 1);

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var shape = x[0].Shape;
        var axes = ctx.Attributes.GetInts("axes", []).Select(a => Shape.NormalizeAxis(a, shape.Rank)).ToHashSet();
        foreach (var a in axes)
        {
            if (shape.Dims[a] != 1) throw new ShapeException($"Squeeze: axis {a} of {shape} has size {shape.Dims[a]}, not 1.");
        }
        var dims = shape.ToArray().Where((d, i) => axes.Count == 0 ? d != 1 : !axes.Contains(i)).ToArray();
        return [x[0].ViewAs(new Shape(dims))];
    }

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) => [Ops.Reshape(g[0]!, ctx.Input(0).Shape.ToArray())];

    public IEnumerable<OpSample> Samples(Random rng)
    {
        yield return ShapeSamples.One(rng, [1, 3, 1, 2], ("axes", Array.Empty<int>()));
        yield return ShapeSamples.One(rng, [1, 3, 1, 2], ("axes", new[] { -2 }));
    }
}
