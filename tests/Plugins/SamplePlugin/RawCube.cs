using Backprop;

namespace SamplePlugin;

/// <summary>y = x³ with a raw-kernel VJP (3x²·g computed on spans): once-differentiable.</summary>
public sealed class RawCube : IDifferentiableOp, IOpSamples
{
    public OpSchema Schema { get; } = new("com.example", "RawCube", 1, 1, 1);

    public bool SupportsHigherOrder => false;

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> inputs) =>
        [Map(inputs[0], null, (x, _) => x * x * x)];

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) => [Map(ctx.Input(0), g[0], (x, gy) => 3 * x * x * gy)];

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t) => [Ops.Mul(t[0]!, Ops.Mul(Ops.Mul(ctx.Input(0), ctx.Input(0)), Tensor.Scalar(3, t[0]!.DType)))];

    private static Tensor Map(Tensor x, Tensor? g, Func<double, double, double> f)
    {
        var xs = x.ToDoubleArray();
        var gs = g?.ToDoubleArray();
        return Tensor.FromDoubles(xs.Select((v, i) => f(v, gs?[i] ?? 0)).ToArray(), x.Shape, x.DType);
    }

    public IEnumerable<OpSample> Samples(Random rng)
    {
        yield return new OpSample("length 5", Tensor.Uniform(new Shape(5), rng, -2, 2, DType.Float64));
    }
}
