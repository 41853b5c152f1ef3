namespace Backprop.Plugins.Core;

/// <summary>Slice (attributes starts, ends, axes, steps; ONNX semantics). The VJP scatters the gradient into zeros.</summary>
internal sealed class Slice : LinearOp, IOpSamples
{
    public override OpSchema Schema { get; } = OpSchema.Of("Slice", 1);

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var s = SliceSpec.Of(ctx.Attributes, x[0].Shape);
        return [Strided.Gather(x[0], s.Offset, s.Strides, s.Shape)];
    }

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) =>
        [Ops.Call(SliceGrad.Instance, ctx.Attributes.With("input_shape", ctx.Input(0).Shape.ToArray()), g[0]!)];

    public IEnumerable<OpSample> Samples(Random rng)
    {
        (string, object)[] A(int[] s, int[] e, int[] ax, int[] st) => [("starts", s), ("ends", e), ("axes", ax), ("steps", st)];
        yield return ShapeSamples.One(rng, [10], A([2], [8], [0], [1]));
        yield return ShapeSamples.One(rng, [10], A([-3], [100], [0], [1]));
        yield return ShapeSamples.One(rng, [10], A([1], [9], [0], [3]));
        yield return ShapeSamples.One(rng, [10], A([8], [1], [0], [-2]));
        yield return ShapeSamples.One(rng, [4, 5, 6], A([1, 0], [3, -1], [0, 2], [1, 2]));
        yield return ShapeSamples.One(rng, [4, 5], A([-1], [-100], [1], [-1]));
    }
}

/// <summary>Adjoint of Slice: places the gradient of a slice into zeros of the input shape (attribute input_shape).</summary>
internal sealed class SliceGrad : LinearOp
{
    public static readonly SliceGrad Instance = new();

    public override OpSchema Schema { get; } = new(Ops.BackpropDomain, "SliceGrad", 1, 1, 1);

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var input = new Shape(ctx.Attributes.GetInts("input_shape"));
        var s = SliceSpec.Of(ctx.Attributes, input);
        if (s.Shape != x[0].Shape) throw new ShapeException($"SliceGrad: gradient {x[0].Shape} does not match the slice {s.Shape}.");
        return [Strided.ScatterIntoZeros(x[0], input, s.Offset, s.Strides)];
    }

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) => [Ops.Call("Slice", ctx.Attributes, g[0]!)];
}
