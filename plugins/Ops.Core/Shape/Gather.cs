namespace Backprop.Plugins.Core;

/// <summary>
/// ONNX Gather: output = data.shape[:axis] + indices.shape + data.shape[axis+1:], int64 indices, negative
/// ones counting from the end. The VJP scatter-adds the gradient back (repeated indices accumulate).
/// </summary>
internal sealed class Gather : LinearOp, IOpSamples
{
    public override OpSchema Schema { get; } = OpSchema.Of("Gather", 2);

    internal static (int Outer, int Axis, int Inner, long[] Indices) Layout(Shape data, Tensor indices, int axisAttr)
    {
        if (indices.DType != DType.Int64) throw new DTypeException($"Gather: indices must be int64, got {indices.DType}.");
        var axis = Shape.NormalizeAxis(axisAttr, data.Rank);
        var n = data.Dims[axis];
        var idx = indices.Span<long>().ToArray();
        for (var i = 0; i < idx.Length; i++)
        {
            if (idx[i] < -n || idx[i] >= n) throw new ShapeException($"Gather: index {idx[i]} at position {i} is out of range for dimension {axis} of size {n}.");
            if (idx[i] < 0) idx[i] += n;
        }
        var outer = data.Dims[..axis].ToArray().Aggregate(1, (a, b) => a * b);
        var inner = data.Dims[(axis + 1)..].ToArray().Aggregate(1, (a, b) => a * b);
        return (outer, axis, inner, idx);
    }

    internal static Shape OutputShape(Shape data, Shape indices, int axis) =>
        new([.. data.Dims[..axis], .. indices.Dims, .. data.Dims[(axis + 1)..]]);

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var data = x[0];
        var (outer, axis, inner, idx) = Layout(data.Shape, x[1], ctx.Attributes.GetInt("axis", 0));
        var y = Tensor.Empty(OutputShape(data.Shape, x[1].Shape, axis), data.DType);
        var n = data.Shape.Dims[axis];
        switch (data.DType)
        {
            case DType.Float32: Copy(data.Span<float>(), y.Span<float>(), outer, n, inner, idx); break;
            case DType.Float64: Copy(data.Span<double>(), y.Span<double>(), outer, n, inner, idx); break;
            case DType.Int64: Copy(data.Span<long>(), y.Span<long>(), outer, n, inner, idx); break;
            case DType.Bool: Copy(data.Span<bool>(), y.Span<bool>(), outer, n, inner, idx); break;
        }
        return [y];
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Copy<T>(ReadOnlySpan<T> src, Span<T> dst, int outer, int n, int inner, long[] idx)
    {
        var k = 0;
        for (var o = 0; o < outer; o++)
        {
            foreach (var i in idx)
            {
                src.Slice((o * n + (int)i) * inner, inner).CopyTo(dst.Slice(k, inner));
                k += inner;
            }
        }
    }

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) =>
        [Ops.Call(GatherGrad.Instance, ctx.Attributes.With("data_shape", ctx.Input(0).Shape.ToArray()), g[0]!, ctx.Input(1)), null];

    public IEnumerable<OpSample> Samples(Random rng)
    {
        yield return new OpSample("rows of [5,3]", [BinarySamples.U(rng, [5, 3], (-2, 2)), Tensor.FromArray(new long[] { 4, 0, -1, 2 }, 4)], OpAttributes.Of(("axis", 0)));
        yield return new OpSample("columns with repeats", [BinarySamples.U(rng, [2, 4, 3], (-2, 2)), Tensor.FromArray(new long[] { 1, 1, 3, 0, 2, 1 }, 2, 3)], OpAttributes.Of(("axis", 1)));
        yield return new OpSample("scalar index", [BinarySamples.U(rng, [4, 2], (-2, 2)), new Tensor(new long[] { 1 }, Shape.Scalar)], OpAttributes.Of(("axis", -1)));
    }
}

/// <summary>Adjoint of Gather: scatter-adds a gradient into zeros of attribute data_shape along "axis".</summary>
internal sealed class GatherGrad : LinearOp
{
    public static readonly GatherGrad Instance = new();

    public override OpSchema Schema { get; } = new(Ops.BackpropDomain, "GatherGrad", 1, 2, 2);

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var shape = new Shape(ctx.Attributes.GetInts("data_shape"));
        var (outer, axis, inner, idx) = Gather.Layout(shape, x[1], ctx.Attributes.GetInt("axis", 0));
        var y = Tensor.Zeros(shape, x[0].DType);
        var n = shape.Dims[axis];
        switch (x[0].DType)
        {
            case DType.Float32: Scatter(x[0].Span<float>(), y.Span<float>(), outer, n, inner, idx); break;
            case DType.Float64: Scatter(x[0].Span<double>(), y.Span<double>(), outer, n, inner, idx); break;
            default: throw new DTypeException($"GatherGrad takes floating-point gradients, got {x[0].DType}.");
        }
        return [y];
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Scatter<T>(ReadOnlySpan<T> src, Span<T> dst, int outer, int n, int inner, long[] idx)
        where T : System.Numerics.IAdditionOperators<T, T, T>
    {
        var k = 0;
        for (var o = 0; o < outer; o++)
        {
            foreach (var i in idx)
            {
                var row = dst.Slice((o * n + (int)i) * inner, inner);
                for (var j = 0; j < inner; j++) row[j] += src[k + j];
                k += inner;
            }
        }
    }

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) => [Ops.Gather(g[0]!, ctx.Input(1), ctx.Attributes.GetInt("axis", 0)), null];
}
