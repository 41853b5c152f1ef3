namespace Backprop.Plugins.Core;

/// <summary>
/// Product over axes. ∂y/∂xᵢ is the product of the other elements of xᵢ's group, computed without dividing by zero:
/// with no zero in the group it is y/xᵢ; with exactly one zero, that element gets the product of the rest and the others
/// get 0; with two or more, everything gets 0. Written in differentiable ops (ReduceProd again on the zero-free copy),
/// so second derivatives follow.
/// </summary>
internal sealed class ReduceProd : IDifferentiableOp, IOpSamples
{
    public OpSchema Schema { get; } = OpSchema.Of("ReduceProd", 1);

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x) => [ReduceKernels.Product(x[0], ReduceAxes.Of(ctx, x[0].Shape))];

    /// <summary>∏_{j≠i} x_j within each reduced group, at the input's shape.</summary>
    private static Tensor Others(Tensor x, ReduceAxes r)
    {
        var zero = Ops.Equal(x, Grad.C(x, 0));
        var zeros = Ops.ReduceSum(Grad.Mask(zero, x), r.Axes, keepDims: true);
        var safe = Ops.Where(zero, Grad.C(x, 1), x);
        var nonZeroProduct = Ops.ReduceProd(safe, r.Axes, keepDims: true);
        var none = Ops.Equal(zeros, Grad.C(x, 0));
        var one = Ops.Equal(zeros, Grad.C(x, 1));
        var onlyZero = Ops.Where(zero, Ops.Where(one, nonZeroProduct, Grad.C(x, 0)), Grad.C(x, 0));
        return Ops.Where(none, Ops.Div(nonZeroProduct, safe), Ops.Expand(onlyZero, x.Shape));
    }

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g)
    {
        var r = ReduceAxes.Of(ctx, ctx.Input(0).Shape);
        return [Ops.Mul(r.Spread(g[0]!), Others(ctx.Input(0), r))];
    }

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t)
    {
        var r = ReduceAxes.Of(ctx, ctx.Input(0).Shape);
        return [Ops.ReduceSum(Ops.Mul(t[0]!, Others(ctx.Input(0), r)), r.Axes, r.KeepDims)];
    }

    public IEnumerable<OpSample> Samples(Random rng) => ReduceSamples.Generate(rng);
}
