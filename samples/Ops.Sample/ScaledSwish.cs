using Backprop;

namespace Example.SampleOps;

/// <summary>
/// y = x·σ(βx) (attribute beta, default 1), with a fused forward kernel. Its rules are written in differentiable ops —
/// dy/dx = σ + βx·σ(1 − σ) — so it differentiates to any order.
/// </summary>
public sealed class ScaledSwish : IDifferentiableOp, IOpSamples
{
    public OpSchema Schema { get; } = new(SampleOpsModule.Domain, "ScaledSwish", 1, 1, 1);

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> inputs)
    {
        var x = inputs[0];
        var beta = ctx.Attributes.GetDouble("beta", 1.0);
        var y = Tensor.Empty(x.Shape, x.DType);
        if (x.DType == DType.Float32)
        {
            var src = x.Span<float>();
            var dst = y.Span<float>();
            for (var i = 0; i < src.Length; i++) dst[i] = (float)(src[i] / (1 + Math.Exp(-beta * src[i])));
        }
        else if (x.DType == DType.Float64)
        {
            var src = x.Span<double>();
            var dst = y.Span<double>();
            for (var i = 0; i < src.Length; i++) dst[i] = src[i] / (1 + Math.Exp(-beta * src[i]));
        }
        else throw new DTypeException($"ScaledSwish takes float32 or float64, got {x.DType}.");
        return [y];
    }

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> gradOutputs) => [Ops.Mul(gradOutputs[0]!, Derivative(ctx))];

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> inputTangents) => [Ops.Mul(inputTangents[0]!, Derivative(ctx))];

    private static Tensor Derivative(OpContext ctx)
    {
        var x = ctx.Input(0);
        var beta = Ops.ScalarLike(x, ctx.Attributes.GetDouble("beta", 1.0));
        var s = Ops.Sigmoid(Ops.Mul(beta, x));
        var one = Ops.ScalarLike(x, 1);
        return Ops.Add(s, Ops.Mul(Ops.Mul(beta, x), Ops.Mul(s, Ops.Sub(one, s))));
    }

    public IEnumerable<OpSample> Samples(Random rng)
    {
        yield return new OpSample("beta 1, length 7", [Tensor.Uniform(new Shape(7), rng, -3, 3, DType.Float64)], OpAttributes.Empty);
        yield return new OpSample("beta 1.5, [3, 4]", [Tensor.Uniform(new Shape(3, 4), rng, -3, 3, DType.Float64)], OpAttributes.Of(("beta", 1.5)));
    }
}
