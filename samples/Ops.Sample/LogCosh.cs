using Backprop;

namespace Example.SampleOps;

/// <summary>
/// y = log cosh x, computed stably as |x| + log1p(e^(−2|x|)) − log 2 (cosh overflows for |x| > 710). Its VJP is a raw
/// kernel, g·tanh x on spans, so it is once-differentiable: asking for second derivatives through it is an error that names it.
/// </summary>
public sealed class LogCosh : IDifferentiableOp, IOpSamples
{
    public OpSchema Schema { get; } = new(SampleOpsModule.Domain, "LogCosh", 1, 1, 1);

    public bool SupportsHigherOrder => false;

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> inputs) =>
        [Map(inputs[0], null, (x, _) => Math.Abs(x) + Math.Log(1 + Math.Exp(-2 * Math.Abs(x))) - Math.Log(2))];

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> gradOutputs) => [Map(ctx.Input(0), gradOutputs[0], (x, g) => g * Math.Tanh(x))];

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> inputTangents) => [Ops.Mul(inputTangents[0]!, Ops.Tanh(ctx.Input(0)))];

    private static Tensor Map(Tensor x, Tensor? g, Func<double, double, double> f)
    {
        var y = Tensor.Empty(x.Shape, x.DType);
        if (x.DType == DType.Float32)
        {
            var src = x.Span<float>();
            var dst = y.Span<float>();
            var gs = g is null ? default : g.Span<float>();
            for (var i = 0; i < src.Length; i++) dst[i] = (float)f(src[i], gs.IsEmpty ? 0 : gs[i]);
        }
        else if (x.DType == DType.Float64)
        {
            var src = x.Span<double>();
            var dst = y.Span<double>();
            var gs = g is null ? default : g.Span<double>();
            for (var i = 0; i < src.Length; i++) dst[i] = f(src[i], gs.IsEmpty ? 0 : gs[i]);
        }
        else throw new DTypeException($"LogCosh takes float32 or float64, got {x.DType}.");
        return y;
    }

    public IEnumerable<OpSample> Samples(Random rng)
    {
        yield return new OpSample("length 9", Tensor.Uniform(new Shape(9), rng, -4, 4, DType.Float64));
        yield return new OpSample("[2, 5]", Tensor.Uniform(new Shape(2, 5), rng, -4, 4, DType.Float64));
    }
}
