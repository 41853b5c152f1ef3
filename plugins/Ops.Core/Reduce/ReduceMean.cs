namespace Backprop.Plugins.Core;

/// <summary>Mean over axes. Linear: the VJP spreads g / n back over the reduced axes.</summary>
internal sealed class ReduceMean : LinearOp, IOpSamples
{
    public override OpSchema Schema { get; } = OpSchema.Of("ReduceMean", 1);

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var r = ReduceAxes.Of(ctx, x[0].Shape);
        var sum = ReduceKernels.Sum(x[0], r);
        var inv = 1.0 / Math.Max(r.Count, 1);
        if (sum.DType == DType.Float32) System.Numerics.Tensors.TensorPrimitives.Multiply(sum.Span<float>(), (float)inv, sum.Span<float>());
        else System.Numerics.Tensors.TensorPrimitives.Multiply(sum.Span<double>(), inv, sum.Span<double>());
        return [sum];
    }

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g)
    {
        var r = ReduceAxes.Of(ctx, ctx.Input(0).Shape);
        return [Ops.Mul(r.Spread(g[0]!), Grad.C(g[0]!, 1.0 / Math.Max(r.Count, 1)))];
    }

    public IEnumerable<OpSample> Samples(Random rng) => ReduceSamples.Generate(rng);
}
