using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Plugins.Core;

/// <summary>
/// Layer normalisation over the axes [axis, rank): y = x̂·γ + β with x̂ = (x − μ)·r, r = 1/√(σ² + ε), μ and σ² the mean and
/// population variance of each row, γ and β broadcasting over those axes (attributes axis, default −1, and epsilon,
/// default 1e-5). Recorded as one node. Forward: one fused pass per row when γ and β cover exactly the normalised axes,
/// else the composition of reductions and elementwise ops. Rules, in ops (so they differentiate again), with ḡ = g·γ and
/// ⟨·⟩ the row mean: ∂x = r·(ḡ − ⟨ḡ⟩ − x̂·⟨ḡ·x̂⟩), ∂γ = Σ g·x̂, ∂β = Σ g (summed to their shapes); the tangent is
/// ṫ = r·(ṫx − ⟨ṫx⟩ − x̂·⟨x̂·ṫx⟩)·γ + x̂·ṫγ + ṫβ. A first-order backward that builds no graph runs as one pass per row.
/// </summary>
internal sealed class LayerNorm : IDifferentiableOp, IFastVjp, IOpSamples
{
    public OpSchema Schema { get; } = new(Ops.BackpropDomain, "LayerNorm", 1, 3, 3);

    private static (int Axis, double Epsilon) Read(OpAttributes a, Tensor x)
    {
        var axis = Shape.NormalizeAxis((int)a.GetLong("axis", -1), x.Rank);
        return (axis, a.GetDouble("epsilon", 1e-5));
    }

    private static int[] Axes(int axis, Tensor x) => Enumerable.Range(axis, x.Rank - axis).ToArray();

    /// <summary>The layer norm written in ops (the general forward, for γ and β of other shapes).</summary>
    private static Tensor Compose(Tensor input, Tensor gamma, Tensor beta, OpAttributes attributes) =>
        Normalise(input, attributes).Normalised * gamma + beta;

    /// <summary>Row length when the fused kernels apply (float operands of one dtype, γ and β covering the normalised axes), else 0.</summary>
    private static int FusedRow(Tensor input, Tensor gamma, Tensor beta, int axis)
    {
        var row = 1;
        for (var i = axis; i < input.Rank; i++) row *= input.Shape[i];
        var fits = input.DType.IsFloatingPoint() && gamma.DType == input.DType && beta.DType == input.DType && gamma.Size == row && beta.Size == row
            && Trailing(gamma.Shape, input.Shape, axis) && Trailing(beta.Shape, input.Shape, axis) && row > 0;
        return fits ? row : 0;
    }

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var (input, gamma, beta) = (x[0], x[1], x[2]);
        var (axis, eps) = Read(ctx.Attributes, input);
        var row = FusedRow(input, gamma, beta, axis);
        if (row == 0) return [Compose(input, gamma, beta, ctx.Attributes)];
        var y = Tensor.Empty(input.Shape, input.DType);
        if (input.DType == DType.Float32) Rows<float>(input, gamma, beta, y, row, eps);
        else Rows<double>(input, gamma, beta, y, row, eps);
        return [y];
    }

    /// <summary>x̂ and r = 1/√(σ² + ε) of <paramref name="x"/>, in ops, and the normalised axes.</summary>
    private static (Tensor Normalised, Tensor InvStd, int[] Axes) Normalise(Tensor x, OpAttributes attributes)
    {
        var (axis, eps) = Read(attributes, x);
        var axes = Axes(axis, x);
        var centered = x - Ops.ReduceMean(x, axes, keepDims: true);
        var inv = Ops.Reciprocal(Ops.Sqrt(Ops.ReduceMean(centered * centered, axes, keepDims: true) + Ops.ScalarLike(x, eps)));
        return (centered * inv, inv, axes);
    }

    /// <summary>r·(v − ⟨v⟩ − x̂·⟨v·x̂⟩): the normalisation's Jacobian (symmetric) applied to v.</summary>
    private static Tensor Project(Tensor v, Tensor normalised, Tensor inv, int[] axes) =>
        inv * (v - Ops.ReduceMean(v, axes, keepDims: true) - normalised * Ops.ReduceMean(v * normalised, axes, keepDims: true));

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g)
    {
        if (g[0] is not { } gy) return [null, null, null];
        var (gamma, beta) = (ctx.Input(1), ctx.Input(2));
        var (normalised, inv, axes) = Normalise(ctx.Input(0), ctx.Attributes);
        return
        [
            ctx.NeedsInputGrad[0] ? Project(gy * gamma, normalised, inv, axes) : null,
            ctx.NeedsInputGrad[1] ? Ops.SumTo(gy * normalised, gamma.Shape) : null,
            ctx.NeedsInputGrad[2] ? Ops.SumTo(gy, beta.Shape) : null,
        ];
    }

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t)
    {
        var (normalised, inv, axes) = Normalise(ctx.Input(0), ctx.Attributes);
        Tensor? result = null;
        if (t[0] is { } tx) result = Project(tx, normalised, inv, axes) * ctx.Input(1);
        if (t[1] is { } tg) result = result is null ? normalised * tg : result + normalised * tg;
        if (t[2] is { } tb) result = result is null ? Ops.Expand(tb, ctx.Output(0).Shape) : result + tb;
        if (result is not null && result.Shape != ctx.Output(0).Shape) result = Ops.Expand(result, ctx.Output(0).Shape);
        return [result];
    }

    public Tensor?[]? FastVjp(OpContext ctx, ReadOnlySpan<Tensor?> g)
    {
        var (input, gamma, beta) = (ctx.Input(0), ctx.Input(1), ctx.Input(2));
        var (axis, eps) = Read(ctx.Attributes, input);
        var row = FusedRow(input, gamma, beta, axis);
        if (g[0] is not { } gy || row == 0 || gy.DType != input.DType || gy.Shape != input.Shape) return null;
        var dx = ctx.NeedsInputGrad[0] ? Tensor.Empty(input.Shape, input.DType) : null;
        var dgamma = ctx.NeedsInputGrad[1] ? Tensor.Zeros(gamma.Shape, gamma.DType) : null;
        var dbeta = ctx.NeedsInputGrad[2] ? Tensor.Zeros(beta.Shape, beta.DType) : null;
        if (input.DType == DType.Float32) LayerNormGrad.Rows<float>(input, gamma, gy, dx, dgamma, dbeta, row, eps);
        else LayerNormGrad.Rows<double>(input, gamma, gy, dx, dgamma, dbeta, row, eps);
        return [dx, dgamma, dbeta];
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
