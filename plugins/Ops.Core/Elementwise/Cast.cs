using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

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
        switch (src.DType)
        {
            case DType.Float32: Convert(src.Span<float>(), y); break;
            case DType.Float64: Convert(src.Span<double>(), y); break;
            case DType.Int64: Convert(src.Span<long>(), y); break;
            case DType.Bool: FromBool(src.Span<bool>(), y); break;
        }
        return [y];
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Convert<TIn>(ReadOnlySpan<TIn> x, Tensor y) where TIn : unmanaged, INumber<TIn>
    {
        switch (y.DType)
        {
            case DType.Float32: { var d = y.Span<float>(); for (var i = 0; i < x.Length; i++) d[i] = float.CreateTruncating(x[i]); break; }
            case DType.Float64: { var d = y.Span<double>(); for (var i = 0; i < x.Length; i++) d[i] = double.CreateTruncating(x[i]); break; }
            case DType.Int64: { var d = y.Span<long>(); for (var i = 0; i < x.Length; i++) d[i] = long.CreateSaturating(x[i]); break; }
            case DType.Bool: { var d = y.Span<bool>(); for (var i = 0; i < x.Length; i++) d[i] = x[i] != TIn.Zero; break; }
        }
    }

    private static void FromBool(ReadOnlySpan<bool> x, Tensor y)
    {
        var bytes = MemoryMarshal.AsBytes(x);
        switch (y.DType)
        {
            case DType.Float32: TensorPrimitives.ConvertChecked<byte, float>(bytes, y.Span<float>()); break;
            case DType.Float64: TensorPrimitives.ConvertChecked<byte, double>(bytes, y.Span<double>()); break;
            case DType.Int64: TensorPrimitives.ConvertChecked<byte, long>(bytes, y.Span<long>()); break;
        }
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
