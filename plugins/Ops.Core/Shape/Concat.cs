namespace Backprop.Plugins.Core;

/// <summary>Joins inputs along attribute "axis". The VJP splits the gradient into the pieces.</summary>
internal sealed class Concat : LinearOp, IOpSamples
{
    public override OpSchema Schema { get; } = new("", "Concat", 1, 1, int.MaxValue);

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var first = x[0];
        var axis = Shape.NormalizeAxis(ctx.Attributes.GetInt("axis"), first.Rank);
        var dims = first.Shape.ToArray();
        var total = 0;
        foreach (var t in x)
        {
            if (t.DType != first.DType) throw new DTypeException($"Concat: inputs have dtypes {first.DType} and {t.DType}.");
            if (t.Rank != first.Rank || Enumerable.Range(0, t.Rank).Any(d => d != axis && t.Shape.Dims[d] != dims[d]))
                throw new ShapeException($"Concat along axis {axis}: {t.Shape} does not match {first.Shape} off that axis.");
            total += t.Shape.Dims[axis];
        }
        dims[axis] = total;
        var y = Tensor.Empty(new Shape(dims), first.DType);
        var outer = dims[..axis].Aggregate(1, (a, b) => a * b);
        var innerOut = y.Size / Math.Max(outer, 1);
        var at = 0;
        foreach (var t in x)
        {
            var block = outer == 0 ? 0 : t.Size / outer;
            for (var o = 0; o < outer; o++) CopyBlock(t, o * block, y, o * innerOut + at, block);
            at += block;
        }
        return [y];
    }

    private static void CopyBlock(Tensor src, int from, Tensor dst, int to, int count)
    {
        switch (src.DType)
        {
            case DType.Float32: src.Span<float>().Slice(from, count).CopyTo(dst.Span<float>().Slice(to, count)); break;
            case DType.Float64: src.Span<double>().Slice(from, count).CopyTo(dst.Span<double>().Slice(to, count)); break;
            case DType.Int64: src.Span<long>().Slice(from, count).CopyTo(dst.Span<long>().Slice(to, count)); break;
            case DType.Bool: src.Span<bool>().Slice(from, count).CopyTo(dst.Span<bool>().Slice(to, count)); break;
        }
    }

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g)
    {
        var axis = Shape.NormalizeAxis(ctx.Attributes.GetInt("axis"), ctx.Input(0).Rank);
        var sizes = Enumerable.Range(0, ctx.InputCount).Select(i => ctx.Input(i).Shape.Dims[axis]).ToArray();
        return Ops.Split(g[0]!, axis, sizes);
    }

    public IEnumerable<OpSample> Samples(Random rng)
    {
        yield return new OpSample("[2,3]+[4,3] axis 0", [BinarySamples.U(rng, [2, 3], (-2, 2)), BinarySamples.U(rng, [4, 3], (-2, 2))], OpAttributes.Of(("axis", 0)));
        yield return new OpSample("3 inputs axis -1", [BinarySamples.U(rng, [2, 1, 2], (-2, 2)), BinarySamples.U(rng, [2, 1, 3], (-2, 2)), BinarySamples.U(rng, [2, 1, 1], (-2, 2))], OpAttributes.Of(("axis", -1)));
        yield return new OpSample("[2,2,2]+[2,3,2] axis 1", [BinarySamples.U(rng, [2, 2, 2], (-2, 2)), BinarySamples.U(rng, [2, 3, 2], (-2, 2))], OpAttributes.Of(("axis", 1)));
    }
}
