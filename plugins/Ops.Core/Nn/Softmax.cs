namespace Backprop.Plugins.Core;

/// <summary>Softmax along attribute "axis" (default −1). VJP: y·(g − Σ g·y); JVP: y·(t − Σ t·y).</summary>
internal sealed class Softmax : IDifferentiableOp, IOpSamples, IFastVjp
{
    public OpSchema Schema { get; } = OpSchema.Of("Softmax", 1);

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x) => [SoftmaxKernel.Run(x[0], ctx.Attributes.GetInt("axis", -1), log: false)];

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) => [Rule(ctx, g[0]!)];

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t) => [Rule(ctx, t[0]!)];

    /// <summary>Along a contiguous last axis: y ⊙ (g − ⟨g, y⟩) per row in one pass (attention scores: 12,288 rows of 128).</summary>
    public Tensor?[]? FastVjp(OpContext ctx, ReadOnlySpan<Tensor?> gradOutputs) =>
        gradOutputs[0] is { } g && SoftmaxKernel.Backward(ctx.Output(0), g, ctx.Attributes.GetInt("axis", -1)) is { } dx ? [dx] : null;

    private static Tensor Rule(OpContext ctx, Tensor v)
    {
        var y = ctx.Output(0);
        var axis = ctx.Attributes.GetInt("axis", -1);
        return Ops.Mul(y, Ops.Sub(v, Ops.ReduceSum(Ops.Mul(v, y), [axis], keepDims: true)));
    }

    public IEnumerable<OpSample> Samples(Random rng) => NnSamples.AlongAxes(rng);
}

/// <summary>Log-softmax along attribute "axis". VJP: g − eʸ·Σ g; JVP: t − Σ eʸ·t.</summary>
internal sealed class LogSoftmax : IDifferentiableOp, IOpSamples
{
    public OpSchema Schema { get; } = OpSchema.Of("LogSoftmax", 1);

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x) => [SoftmaxKernel.Run(x[0], ctx.Attributes.GetInt("axis", -1), log: true)];

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g)
    {
        var axis = ctx.Attributes.GetInt("axis", -1);
        return [Ops.Sub(g[0]!, Ops.Mul(Ops.Exp(ctx.Output(0)), Ops.ReduceSum(g[0]!, [axis], keepDims: true)))];
    }

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t)
    {
        var axis = ctx.Attributes.GetInt("axis", -1);
        return [Ops.Sub(t[0]!, Ops.ReduceSum(Ops.Mul(Ops.Exp(ctx.Output(0)), t[0]!), [axis], keepDims: true))];
    }

    public IEnumerable<OpSample> Samples(Random rng) => NnSamples.AlongAxes(rng);
}

internal static class NnSamples
{
    public static IEnumerable<OpSample> AlongAxes(Random rng)
    {
        foreach (var (shape, axis) in new[] { (new[] { 7 }, -1), ([3, 5], -1), ([3, 5], 0), ([2, 3, 4], 1), ([2, 17], 1) })
            yield return ShapeSamples.One(rng, shape, ("axis", axis));
    }
}
