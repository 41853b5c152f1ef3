namespace Backprop.Plugins.Core;

/// <summary>Permutes axes (attribute "perm"; empty reverses them). The VJP applies the inverse permutation.</summary>
internal sealed class Transpose : LinearOp, IOpSamples
{
    public override OpSchema Schema { get; } = OpSchema.Of("Transpose", 1);

    public static int[] Perm(OpContext ctx, int rank)
    {
        var perm = ctx.Attributes.GetInts("perm", []);
        if (perm.Length == 0) return Enumerable.Range(0, rank).Reverse().ToArray();
        if (perm.Length != rank || perm.Order().Where((p, i) => p != i).Any())
            throw new ShapeException($"Transpose: perm [{string.Join(", ", perm)}] is not a permutation of {rank} axes.");
        return perm;
    }

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var input = x[0];
        var perm = Perm(ctx, input.Rank);
        var src = input.Shape.Strides();
        var strides = perm.Select(p => src[p]).ToArray();
        var shape = new Shape(perm.Select(p => input.Shape.Dims[p]).ToArray());
        return [Strided.Gather(input, 0, strides, shape)];
    }

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g)
    {
        var perm = Perm(ctx, ctx.Input(0).Rank);
        var inverse = new int[perm.Length];
        for (var i = 0; i < perm.Length; i++) inverse[perm[i]] = i;
        return [Ops.Transpose(g[0]!, inverse)];
    }

    public IEnumerable<OpSample> Samples(Random rng)
    {
        yield return ShapeSamples.One(rng, [3, 4], ("perm", Array.Empty<int>()));
        yield return ShapeSamples.One(rng, [2, 3, 4], ("perm", new[] { 1, 2, 0 }));
        yield return ShapeSamples.One(rng, [2, 3, 4, 5], ("perm", new[] { 0, 2, 1, 3 }));
    }
}
