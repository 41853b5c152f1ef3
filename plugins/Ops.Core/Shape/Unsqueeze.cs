namespace Backprop.Plugins.Core;

/// <summary>Inserts size-1 axes at attribute "axes" (positions in the output). A reshape, sharing the buffer.</summary>
internal sealed class Unsqueeze : LinearOp, IOpSamples
{
    public override OpSchema Schema { get; } = OpSchema.Of("Unsqueeze", 1);

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var shape = x[0].Shape;
        var raw = ctx.Attributes.GetInts("axes");
        var rank = shape.Rank + raw.Length;
        var axes = raw.Select(a => Shape.NormalizeAxis(a, rank)).ToHashSet();
        if (axes.Count != raw.Length) throw new ShapeException($"Unsqueeze: repeated axes in [{string.Join(", ", raw)}].");
        var dims = new int[rank];
        var k = 0;
        for (var i = 0; i < rank; i++) dims[i] = axes.Contains(i) ? 1 : shape.Dims[k++];
        return [x[0].ViewAs(new Shape(dims))];
    }

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) => [Ops.Reshape(g[0]!, ctx.Input(0).Shape.ToArray())];

    public IEnumerable<OpSample> Samples(Random rng)
    {
        yield return ShapeSamples.One(rng, [3, 2], ("axes", new[] { 0, 3 }));
        yield return ShapeSamples.One(rng, [], ("axes", new[] { 0 }));
        yield return ShapeSamples.One(rng, [4], ("axes", new[] { -1 }));
    }
}
