namespace Backprop.Plugins.Core;

/// <summary>
/// Reshape (attribute "shape"; 0 copies the input dimension — or, with allowzero = 1, is a literal 0 — and −1 is inferred).
/// Shares the buffer.
/// </summary>
internal sealed class Reshape : LinearOp, IOpSamples
{
    public override OpSchema Schema { get; } = OpSchema.Of("Reshape", 1);

    public static Shape Resolve(Shape input, long[] spec, bool allowZero = false)
    {
        var dims = new int[spec.Length];
        var infer = -1;
        var known = 1L;
        for (var i = 0; i < spec.Length; i++)
        {
            if (spec[i] == -1)
            {
                if (infer >= 0) throw new ShapeException($"Reshape: more than one -1 in [{string.Join(", ", spec)}].");
                infer = i;
                continue;
            }
            if (spec[i] < -1) throw new ShapeException($"Reshape: invalid dimension {spec[i]} in [{string.Join(", ", spec)}].");
            dims[i] = spec[i] == 0 && !allowZero ? (i < input.Rank ? input.Dims[i] : throw new ShapeException($"Reshape: 0 at position {i} but the input {input} has rank {input.Rank}.")) : checked((int)spec[i]);
            known *= dims[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || input.Size % known != 0)
                throw new ShapeException($"Reshape: cannot infer -1 in [{string.Join(", ", spec)}] for input {input} ({input.Size} elements).");
            dims[infer] = (int)(input.Size / known);
        }
        var shape = new Shape(dims);
        if (shape.Size != input.Size)
            throw new ShapeException($"Reshape: input {input} has {input.Size} elements but [{string.Join(", ", spec)}] has {shape.Size}.");
        return shape;
    }

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x) =>
        [x[0].ViewAs(Resolve(x[0].Shape, ctx.Attributes.GetLongs("shape"), ctx.Attributes.GetLong("allowzero", 0) != 0))];

    // allowzero: the input's shape literally, also when it has a 0 (an empty tensor) that would otherwise copy a dimension;
    // a gradient already of that shape passes as it is (as Ops.Reshape passes it).
    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) =>
        [g[0]!.Shape == ctx.Input(0).Shape ? g[0] : Ops.Call("Reshape", OpAttributes.Of(("shape", ctx.Input(0).Shape.ToArray()), ("allowzero", 1L)), g[0]!)];

    public IEnumerable<OpSample> Samples(Random rng)
    {
        yield return ShapeSamples.One(rng, [2, 3, 4], ("shape", new[] { 6, 4 }));
        yield return ShapeSamples.One(rng, [2, 3, 4], ("shape", new[] { 0, -1 }));
        yield return ShapeSamples.One(rng, [6], ("shape", new[] { 3, 1, 2 }));
        yield return ShapeSamples.One(rng, [], ("shape", new[] { 1, 1 }));
    }
}
