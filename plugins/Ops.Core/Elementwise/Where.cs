namespace Backprop.Plugins.Core;

/// <summary>y = cond ? a : b with three-way broadcasting. Linear in (a, b): the gradient is masked back.</summary>
internal sealed class Where : LinearOp, IOpSamples
{
    public override OpSchema Schema { get; } = OpSchema.Of("Where", 3);

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var (c, a, b) = (x[0], x[1], x[2]);
        if (c.DType != DType.Bool) throw new DTypeException($"Where: the condition must be bool, got {c.DType}.");
        if (a.DType != b.DType) throw new DTypeException($"Where: branches have dtypes {a.DType} and {b.DType}.");
        var shape = Shape.Broadcast(Shape.Broadcast(c.Shape, a.Shape), b.Shape);
        var y = Tensor.Empty(shape, a.DType);
        switch (a.DType)
        {
            case DType.Float32: Select<float>(c, a, b, y); break;
            case DType.Float64: Select<double>(c, a, b, y); break;
            case DType.Int64: Select<long>(c, a, b, y); break;
            case DType.Bool: Select<bool>(c, a, b, y); break;
        }
        return [y];
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Select<T>(Tensor c, Tensor a, Tensor b, Tensor y) where T : unmanaged
    {
        var shape = y.Shape;
        var sc = c.Shape.BroadcastStrides(shape);
        var sa = a.Shape.BroadcastStrides(shape);
        var sb = b.Shape.BroadcastStrides(shape);
        var vc = c.Span<bool>();
        var va = a.Span<T>();
        var vb = b.Span<T>();
        var vy = y.Span<T>();
        var index = new int[shape.Rank];
        int oc = 0, oa = 0, ob = 0;
        for (var i = 0; i < vy.Length; i++)
        {
            vy[i] = vc[oc] ? va[oa] : vb[ob];
            for (var d = shape.Rank - 1; d >= 0; d--)
            {
                oc += sc[d]; oa += sa[d]; ob += sb[d];
                if (++index[d] < shape.Dims[d]) break;
                oc -= sc[d] * index[d]; oa -= sa[d] * index[d]; ob -= sb[d] * index[d];
                index[d] = 0;
            }
        }
    }

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g)
    {
        var c = ctx.Input(0);
        var zero = Grad.C(g[0]!, 0);
        return
        [
            null,
            ctx.NeedsInputGrad[1] ? Grad.To(ctx, 1, Ops.Where(c, g[0]!, zero)) : null,
            ctx.NeedsInputGrad[2] ? Grad.To(ctx, 2, Ops.Where(c, zero, g[0]!)) : null,
        ];
    }

    public IEnumerable<OpSample> Samples(Random rng)
    {
        foreach (var (shape, other) in new[] { (new[] { 7 }, new[] { 7 }), ([2, 3], [3]), ([2, 1], [1, 4]) })
        {
            var cond = Tensor.Uniform(new Shape(shape), rng, -1, 1, DType.Float64);
            var mask = Tensor.FromArray(cond.ToDoubleArray().Select(v => v > 0).ToArray(), shape);
            yield return new OpSample($"cond {new Shape(shape)}, branches {new Shape(shape)} and {new Shape(other)}",
                mask, BinarySamples.U(rng, shape, (-2, 2)), BinarySamples.U(rng, other, (-2, 2)));
        }
    }
}
