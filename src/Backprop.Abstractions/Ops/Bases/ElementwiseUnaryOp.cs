using System.Numerics;

namespace Backprop;

/// <summary>
/// Base of y = f(x) applied elementwise to a floating-point tensor. A subclass gives the kernel and
/// f′(x, y) written in differentiable ops; the VJP (g·f′) and JVP (t·f′) follow.
/// </summary>
public abstract class ElementwiseUnaryOp : IDifferentiableOp, IOpSamples
{
    /// <summary>Creates the op with its name.</summary>
    protected ElementwiseUnaryOp(string name, string domain = "", int sinceVersion = 1) =>
        Schema = new OpSchema(domain, name, sinceVersion, 1, 1);

    /// <inheritdoc />
    public OpSchema Schema { get; }

    /// <summary>Computes y = f(x) over spans of equal length.</summary>
    protected abstract void Compute<T>(ReadOnlySpan<T> x, Span<T> y, OpAttributes attributes)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>f′ as a tensor, from the input and output.</summary>
    protected abstract Tensor Derivative(OpContext ctx, Tensor x, Tensor y);

    /// <summary>Range sample inputs are drawn from (avoid singularities and kinks).</summary>
    protected virtual (double Low, double High) SampleRange => (-2, 2);

    /// <summary>Points where f is not differentiable; samples keep at least 0.05 away from them.</summary>
    protected virtual IReadOnlyList<double> Kinks => [];

    /// <inheritdoc />
    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> inputs)
    {
        var x = inputs[0];
        var y = Tensor.Empty(x.Shape, x.DType);
        if (x.Size == 0 && x.DType.IsFloatingPoint()) return [y];
        switch (x.DType)
        {
            case DType.Float32: Compute<float>(x.Span<float>(), y.Span<float>(), ctx.Attributes); break;
            case DType.Float64: Compute<double>(x.Span<double>(), y.Span<double>(), ctx.Attributes); break;
            default: throw new DTypeException($"{Schema.QualifiedName} takes float32 or float64, got {x.DType}.");
        }
        return [y];
    }

    /// <inheritdoc />
    public virtual Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> gradOutputs) =>
        [gradOutputs[0] is { } g ? Ops.Mul(g, Derivative(ctx, ctx.Input(0), ctx.Output(0))) : null];

    /// <inheritdoc />
    public virtual Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> inputTangents) =>
        [inputTangents[0] is { } t ? Ops.Mul(t, Derivative(ctx, ctx.Input(0), ctx.Output(0))) : null];

    /// <inheritdoc />
    public virtual IEnumerable<OpSample> Samples(Random rng)
    {
        foreach (var n in SampleShapes.ElementwiseLengths)
            yield return new OpSample($"length {n}", Draw(new Shape(n), rng));
        yield return new OpSample("2x3x4", Draw(new Shape(2, 3, 4), rng));
        yield return new OpSample("scalar", Draw(Shape.Scalar, rng));
    }

    /// <summary>Uniform values from <see cref="SampleRange"/>, pushed at least 0.05 away from <see cref="Kinks"/>.</summary>
    protected Tensor Draw(Shape shape, Random rng)
    {
        var (lo, hi) = SampleRange;
        var values = new double[shape.Size];
        for (var i = 0; i < values.Length; i++)
        {
            var v = lo + (hi - lo) * rng.NextDouble();
            foreach (var k in Kinks)
            {
                if (Math.Abs(v - k) < 0.05) v = k + (v >= k ? 1 : -1) * (0.05 + 0.05 * rng.NextDouble());
            }
            values[i] = v;
        }
        return Tensor.FromDoubles(values, shape, DType.Float64);
    }
}

/// <summary>Shapes the built-in samples sweep.</summary>
public static class SampleShapes
{
    /// <summary>Lengths 0–33 (every remainder of 8- and 16-lane vectors) and the edges of larger blocks up to 256.</summary>
    public static IReadOnlyList<int> ElementwiseLengths { get; } =
        [.. Enumerable.Range(0, 34), 63, 64, 65, 127, 128, 129, 255, 256];

    /// <summary>Pairs of shapes that broadcast against each other.</summary>
    public static IReadOnlyList<(int[] A, int[] B)> BroadcastPairs { get; } =
    [
        ([2, 3], [2, 3]), ([2, 3], [3]), ([3], [2, 3]), ([2, 1, 4], [3, 1]), ([], [2, 2]), ([4, 1], []), ([1, 5], [3, 1]),
    ];
}
