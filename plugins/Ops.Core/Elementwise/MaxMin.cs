namespace Backprop.Plugins.Core;

/// <summary>
/// Elementwise max / min of two tensors with broadcasting. The gradient is routed to the selected
/// operand (a max gate); ties split it equally.
/// </summary>
internal abstract class SelectBinary : IDifferentiableOp, IOpSamples
{
    public abstract OpSchema Schema { get; }

    public abstract Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x);

    /// <summary>1 where a is selected, 0 where b is, ½ on ties; constant with respect to a and b.</summary>
    protected abstract Tensor Wins(Tensor a, Tensor b);

    private Tensor ShareOfA(OpContext ctx)
    {
        var a = ctx.Input(0);
        var b = ctx.Input(1);
        var tie = Ops.Mul(Grad.Mask(Ops.Equal(a, b), a), Grad.C(a, 0.5));
        return Ops.Add(Grad.Mask(Wins(a, b), a), tie);
    }

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g)
    {
        var share = ShareOfA(ctx);
        return
        [
            ctx.NeedsInputGrad[0] ? Grad.To(ctx, 0, Ops.Mul(g[0]!, share)) : null,
            ctx.NeedsInputGrad[1] ? Grad.To(ctx, 1, Ops.Mul(g[0]!, Ops.Sub(Grad.C(share, 1), share))) : null,
        ];
    }

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t)
    {
        var share = ShareOfA(ctx);
        return [Grad.Plus(t[0] is { } ta ? Ops.Mul(ta, share) : null, t[1] is { } tb ? Ops.Mul(tb, Ops.Sub(Grad.C(share, 1), share)) : null)];
    }

    /// <summary>Broadcasting samples whose operands differ by at least 0.1 everywhere (no ties, no kink crossings).</summary>
    public IEnumerable<OpSample> Samples(Random rng)
    {
        foreach (var s in BinarySamples.Generate(rng, (-2, 2), (-2, 2)))
        {
            var (a, b) = (s.Inputs[0], s.Inputs[1]);
            var shape = Shape.Broadcast(a.Shape, b.Shape);
            if (a.Shape != shape) continue;
            var bb = Ops.Expand(b, shape).ToDoubleArray();
            var av = a.ToDoubleArray();
            for (var i = 0; i < av.Length; i++)
            {
                if (Math.Abs(av[i] - bb[i]) < 0.1) av[i] = bb[i] + (av[i] >= bb[i] ? 1 : -1) * (0.1 + rng.NextDouble());
            }
            yield return s with { Inputs = [Tensor.FromDoubles(av, a.Shape, DType.Float64), b] };
        }
    }
}

/// <summary>Elementwise maximum (ONNX Max with two inputs).</summary>
internal sealed class Max : SelectBinary
{
    public override OpSchema Schema { get; } = OpSchema.Of("Max", 2);

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x) => [Broadcast.Float<MaxK<float>, MaxK<double>>("Max", x[0], x[1])];

    protected override Tensor Wins(Tensor a, Tensor b) => Ops.Greater(a, b);
}

/// <summary>Elementwise minimum (ONNX Min with two inputs).</summary>
internal sealed class Min : SelectBinary
{
    public override OpSchema Schema { get; } = OpSchema.Of("Min", 2);

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x) => [Broadcast.Float<MinK<float>, MinK<double>>("Min", x[0], x[1])];

    protected override Tensor Wins(Tensor a, Tensor b) => Ops.Less(a, b);
}
