namespace Backprop.Plugins.Core;

/// <summary>y = sign x (−1, 0, 1). Piecewise constant: its derivative is zero, so no gradient flows.</summary>
internal sealed class Sign : IDifferentiableOp, IOpSamples
{
    public OpSchema Schema { get; } = OpSchema.Of("Sign", 1);

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var y = Tensor.Empty(x[0].Shape, x[0].DType);
        switch (x[0].DType)
        {
            case DType.Float32: Fill(x[0].Span<float>(), y.Span<float>()); break;
            case DType.Float64: Fill(x[0].Span<double>(), y.Span<double>()); break;
            default: throw new DTypeException($"Sign takes float32 or float64, got {x[0].DType}.");
        }
        return [y];
    }

    private static void Fill<T>(ReadOnlySpan<T> x, Span<T> y) where T : System.Numerics.IFloatingPointIeee754<T>
    {
        for (var i = 0; i < x.Length; i++) y[i] = T.IsNaN(x[i]) ? x[i] : T.CreateTruncating(T.Sign(x[i]));
    }

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) => [null];

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t) => [null];

    public IEnumerable<OpSample> Samples(Random rng)
    {
        // Values at least 0.05 from zero, where sign is locally constant.
        var values = Enumerable.Range(0, 17).Select(_ => (rng.Next(2) * 2 - 1) * (0.05 + rng.NextDouble())).ToArray();
        yield return new OpSample("length 17", Tensor.FromDoubles(values, new Shape(17), DType.Float64));
    }
}
