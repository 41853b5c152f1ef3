using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Plugins.Core;

/// <summary>
/// Layer normalisation over the axes [axis, rank): y = (x − μ)/√(σ² + ε)·γ + β with μ, σ² the mean and population variance
/// of each row, γ and β broadcasting over those axes (attributes axis, default −1, and epsilon, default 1e-5). Composed of
/// reductions and elementwise ops, so every derivative comes from the parts; when nothing is recorded one fused pass per
/// row runs instead of nine passes over the tensor.
/// </summary>
internal sealed class LayerNorm : CompositeOp, IFusedKernel, IOpSamples
{
    public override OpSchema Schema { get; } = new(Ops.BackpropDomain, "LayerNorm", 1, 3, 3);

    private static (int Axis, double Epsilon) Read(OpAttributes a, Tensor x)
    {
        var axis = Shape.NormalizeAxis((int)a.GetLong("axis", -1), x.Rank);
        return (axis, a.GetDouble("epsilon", 1e-5));
    }

    public override Tensor[] Compose(ReadOnlySpan<Tensor> x, OpAttributes attributes)
    {
        var (input, gamma, beta) = (x[0], x[1], x[2]);
        var (axis, eps) = Read(attributes, input);
        var axes = Enumerable.Range(axis, input.Rank - axis).ToArray();
        var centered = input - Ops.ReduceMean(input, axes, keepDims: true);
        var variance = Ops.ReduceMean(centered * centered, axes, keepDims: true);
        return [centered / Ops.Sqrt(variance + Ops.ScalarLike(input, eps)) * gamma + beta];
    }

    public Tensor[] RunFused(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var (input, gamma, beta) = (x[0], x[1], x[2]);
        var (axis, eps) = Read(ctx.Attributes, input);
        var row = 1;
        for (var i = axis; i < input.Rank; i++) row *= input.Shape[i];
        // The fused pass needs float operands of one dtype and γ, β of exactly one row's size; anything else composes.
        if (!input.DType.IsFloatingPoint() || gamma.DType != input.DType || beta.DType != input.DType || gamma.Size != row || beta.Size != row
            || !Trailing(gamma.Shape, input.Shape, axis) || !Trailing(beta.Shape, input.Shape, axis) || row == 0)
            return Compose(x, ctx.Attributes);
        var y = Tensor.Empty(input.Shape, input.DType);
        if (input.DType == DType.Float32) Rows<float>(input, gamma, beta, y, row, eps);
        else Rows<double>(input, gamma, beta, y, row, eps);
        return [y];
    }

    /// <summary>True when <paramref name="p"/> is the shape of x's axes [axis, rank), possibly with leading 1s.</summary>
    private static bool Trailing(Shape p, Shape x, int axis)
    {
        int[] Trim(IEnumerable<int> dims) => dims.SkipWhile(d => d == 1).ToArray();
        return Trim(p.ToArray()).SequenceEqual(Trim(x.ToArray().Skip(axis)));
    }

    private static void Rows<T>(Tensor x, Tensor gamma, Tensor beta, Tensor y, int row, double eps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rows = x.Size / row;
        var threads = (long)x.Size >= 1 << 15 ? Environment.ProcessorCount : 1;
        KernelThreads.ForRanges(rows, threads, (first, last) =>
        {
            ReadOnlySpan<T> src = x.Span<T>(), g = gamma.Span<T>(), b = beta.Span<T>();
            var dst = y.Span<T>();
            var n = T.CreateTruncating(row);
            for (var r = first; r < last; r++)
            {
                var xr = src.Slice(r * row, row);
                var yr = dst.Slice(r * row, row);
                var mean = TensorPrimitives.Sum<T>(xr) / n;
                TensorPrimitives.Subtract(xr, mean, yr);
                var inv = T.One / T.Sqrt(TensorPrimitives.SumOfSquares<T>(yr) / n + T.CreateTruncating(eps));
                TensorPrimitives.Multiply(yr, inv, yr);
                TensorPrimitives.FusedMultiplyAdd(yr, g, b, yr);
            }
        });
    }

    public IEnumerable<OpSample> Samples(Random rng)
    {
        Tensor U(params int[] s) => BinarySamples.U(rng, s, (-1, 1));
        yield return new OpSample("[N, D] over the last axis", [U(3, 5), U(5), U(5)], OpAttributes.Of(("epsilon", 1e-3)));
        yield return new OpSample("[N, S, D] over the last two axes", [U(2, 3, 4), U(3, 4), U(1, 4)], OpAttributes.Of(("axis", -2)));
        yield return new OpSample("γ, β broadcasting over rows", [U(2, 2, 6), U(1, 1, 6), U(6)], OpAttributes.Of(("epsilon", 1e-2)));
    }
}
