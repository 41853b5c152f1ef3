using Backprop;

namespace SamplePlugin;

/// <summary>y = x² + sin x, fused; f′ = 2x + cos x written in ops, so it differentiates again.</summary>
public sealed class SquarePlusSin : IDifferentiableOp, IOpSamples
{
    public OpSchema Schema { get; } = new("com.example", "SquarePlusSin", 1, 1, 1);

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> inputs)
    {
        var x = inputs[0].ToDoubleArray();
        return [Tensor.FromDoubles(x.Select(v => v * v + Math.Sin(v)).ToArray(), inputs[0].Shape, inputs[0].DType)];
    }

    private static Tensor Derivative(Tensor x) => Ops.Add(Ops.Mul(x, Tensor.Scalar(2, x.DType)), Ops.Cos(x));

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) => [Ops.Mul(g[0]!, Derivative(ctx.Input(0)))];

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t) => [Ops.Mul(t[0]!, Derivative(ctx.Input(0)))];

    public IEnumerable<OpSample> Samples(Random rng)
    {
        yield return new OpSample("length 9", Tensor.Uniform(new Shape(9), rng, -2, 2, DType.Float64));
    }
}
