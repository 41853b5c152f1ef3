using System.Numerics.Tensors;

namespace Backprop.Plugins.Core;

/// <summary>y = −x. Linear.</summary>
internal sealed class Neg : LinearOp, IOpSamples
{
    public override OpSchema Schema { get; } = OpSchema.Of("Neg", 1);

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var y = Tensor.Empty(x[0].Shape, x[0].DType);
        switch (x[0].DType)
        {
            case DType.Float32: TensorPrimitives.Negate(x[0].Span<float>(), y.Span<float>()); break;
            case DType.Float64: TensorPrimitives.Negate(x[0].Span<double>(), y.Span<double>()); break;
            case DType.Int64: TensorPrimitives.Negate(x[0].Span<long>(), y.Span<long>()); break;
            default: throw new DTypeException($"Neg does not take {x[0].DType}.");
        }
        return [y];
    }

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) => [Ops.Neg(g[0]!)];

    public IEnumerable<OpSample> Samples(Random rng) =>
        SampleShapes.ElementwiseLengths.Select(n => new OpSample($"length {n}", BinarySamples.U(rng, [n], (-2, 2))));
}
