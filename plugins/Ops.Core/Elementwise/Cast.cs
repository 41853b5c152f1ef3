namespace Backprop.Plugins.Core;

/// <summary>Converts between dtypes (attribute "to" is a <see cref="DType"/> value). Differentiable between floating types.</summary>
internal sealed class Cast : IDifferentiableOp, IOpSamples
{
    public OpSchema Schema { get; } = OpSchema.Of("Cast", 1);

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var to = (DType)ctx.Attributes.GetLong("to");
        var src = x[0];
        if (!Enum.IsDefined(to)) throw new AttributeException($"Cast: unknown target dtype {(long)to}.");
        if (src.DType == to) return [src.Clone()];
        var y = Tensor.Empty(src.Shape, to);
        switch ((src.DType, to))
        {
            case (DType.Float32, DType.Float64): Convert(src.Span<float>(), y.Span<double>(), v => v); break;
            case (DType.Float64, DType.Float32): Convert(src.Span<double>(), y.Span<float>(), v => (float)v); break;
            case (DType.Bool, DType.Float32): Convert(src.Span<bool>(), y.Span<float>(), v => v ? 1f : 0f); break;
            case (DType.Bool, DType.Float64): Convert(src.Span<bool>(), y.Span<double>(), v => v ? 1d : 0d); break;
            case (DType.Int64, DType.Float32): Convert(src.Span<long>(), y.Span<float>(), v => v); break;
            case (DType.Int64, DType.Float64): Convert(src.Span<long>(), y.Span<double>(), v => v); break;
            case (DType.Float32, DType.Int64): Convert(src.Span<float>(), y.Span<long>(), v => (long)v); break;
            case (DType.Float64, DType.Int64): Convert(src.Span<double>(), y.Span<long>(), v => (long)v); break;
            case (DType.Bool, DType.Int64): Convert(src.Span<bool>(), y.Span<long>(), v => v ? 1L : 0L); break;
            case (DType.Float32, DType.Bool): Convert(src.Span<float>(), y.Span<bool>(), v => v != 0); break;
            case (DType.Float64, DType.Bool): Convert(src.Span<double>(), y.Span<bool>(), v => v != 0); break;
            case (DType.Int64, DType.Bool): Convert(src.Span<long>(), y.Span<bool>(), v => v != 0); break;
            default: throw new DTypeException($"Cast from {src.DType} to {to} is not supported.");
        }
        return [y];
    }

    private static void Convert<TIn, TOut>(ReadOnlySpan<TIn> x, Span<TOut> y, Func<TIn, TOut> f)
    {
        for (var i = 0; i < x.Length; i++) y[i] = f(x[i]);
    }

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g)
    {
        var x = ctx.Input(0);
        return [x.DType.IsFloatingPoint() && g[0] is { } gy ? Ops.Cast(gy, x.DType) : null];
    }

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t)
    {
        var y = ctx.Output(0);
        return [y.DType.IsFloatingPoint() && t[0] is { } tx ? Ops.Cast(tx, y.DType) : null];
    }

    public IEnumerable<OpSample> Samples(Random rng)
    {
        var to64 = OpAttributes.Of(("to", (long)DType.Float64));
        yield return new OpSample("float64 to float64", [BinarySamples.U(rng, [6], (-2, 2))], to64);
        yield return new OpSample("int64 to float64", [Tensor.FromArray(new long[] { 3, -1, 0 })], to64);
        yield return new OpSample("bool to float64", [Tensor.FromArray(new[] { true, false })], to64);
        yield return new OpSample("float64 to bool", [BinarySamples.U(rng, [4], (0.5, 2))], OpAttributes.Of(("to", (long)DType.Bool)));
    }
}
