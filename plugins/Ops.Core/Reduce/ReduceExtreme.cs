namespace Backprop.Plugins.Core;

/// <summary>
/// Max or min over axes. The gradient goes to the elements that attain the extreme (ties share it
/// equally); the JVP picks the tangent there the same way.
/// </summary>
internal abstract class ReduceExtreme(bool max) : IDifferentiableOp, IOpSamples
{
    public abstract OpSchema Schema { get; }

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x) => [ReduceKernels.Extreme(x[0], ReduceAxes.Of(ctx, x[0].Shape), max)];

    /// <summary>Weights 1/count on the arg-extreme elements, 0 elsewhere; constant.</summary>
    private static Tensor Share(OpContext ctx, ReduceAxes r)
    {
        var x = ctx.Input(0);
        var hit = Grad.Mask(Ops.Equal(x, r.Spread(ctx.Output(0).Detach())), x);
        return Ops.Div(hit, Ops.Expand(ReduceKernelsCount(hit, r), x.Shape));
    }

    private static Tensor ReduceKernelsCount(Tensor hit, ReduceAxes r) => Ops.ReduceSum(hit, r.Axes, keepDims: true);

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g)
    {
        var r = ReduceAxes.Of(ctx, ctx.Input(0).Shape);
        return [Ops.Mul(r.Spread(g[0]!), Share(ctx, r))];
    }

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t)
    {
        var r = ReduceAxes.Of(ctx, ctx.Input(0).Shape);
        return [Ops.ReduceSum(Ops.Mul(t[0]!, Share(ctx, r)), r.Axes, r.KeepDims)];
    }

    public IEnumerable<OpSample> Samples(Random rng) => ReduceSamples.Generate(rng);
}

/// <summary>ReduceMax.</summary>
internal sealed class ReduceMax() : ReduceExtreme(max: true)
{
    public override OpSchema Schema { get; } = OpSchema.Of("ReduceMax", 1);
}

/// <summary>ReduceMin.</summary>
internal sealed class ReduceMin() : ReduceExtreme(max: false)
{
    public override OpSchema Schema { get; } = OpSchema.Of("ReduceMin", 1);
}
