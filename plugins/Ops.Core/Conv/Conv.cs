namespace Backprop.Plugins.Core;

/// <summary>
/// ONNX Conv, 1-D and 2-D: Y = X ⋆ W + B (attributes strides, pads, dilations, group; depthwise when group = C).
/// Composed of the bilinear <see cref="ConvCore"/> and a broadcast bias add.
/// </summary>
internal sealed class Conv : CompositeOp, IOpSamples
{
    public override OpSchema Schema { get; } = new("", "Conv", 1, 2, 3);

    public override Tensor[] Compose(ReadOnlySpan<Tensor> x, OpAttributes attributes)
    {
        var y = Ops.Call(ConvCore.Instance, attributes, x[0], x[1]);
        if (x.Length == 3)
        {
            var b = x[2];
            if (b.Rank != 1 || b.Size != y.Shape[1]) throw new ShapeException($"Conv: bias must be [{y.Shape[1]}], got {b.Shape}.");
            var shape = Enumerable.Repeat(1, y.Rank).ToArray();
            shape[1] = b.Size;
            y = Ops.Add(y, Ops.Reshape(b, shape));
        }
        return [y];
    }

    public IEnumerable<OpSample> Samples(Random rng)
    {
        Tensor U(params int[] s) => BinarySamples.U(rng, s, (-1, 1));
        yield return new OpSample("2-D 3x3 with bias", [U(2, 3, 5, 6), U(4, 3, 3, 3), U(4)], OpAttributes.Empty);
        yield return new OpSample("2-D stride 2, pads, dilation 2", [U(1, 2, 7, 6), U(3, 2, 2, 3)],
            OpAttributes.Of(("strides", new[] { 2, 1 }), ("pads", new[] { 1, 0, 2, 1 }), ("dilations", new[] { 2, 1 })));
        yield return new OpSample("2-D groups=2", [U(2, 4, 5, 5), U(6, 2, 3, 3), U(6)], OpAttributes.Of(("group", 2), ("pads", new[] { 1, 1, 1, 1 })));
        yield return new OpSample("depthwise", [U(1, 3, 6, 6), U(3, 1, 3, 3)], OpAttributes.Of(("group", 3), ("strides", new[] { 2, 2 })));
        yield return new OpSample("1-D", [U(2, 3, 9), U(2, 3, 4), U(2)], OpAttributes.Of(("strides", new[] { 2 }), ("pads", new[] { 1, 2 })));
    }
}
