namespace Backprop.Plugins.Core;

/// <summary>
/// ONNX ConvTranspose, 1-D and 2-D: the adjoint of convolution. With weight [C_in, C_out/group, k…] it is exactly
/// <see cref="ConvGradInput"/> of a convolution whose output has C_in channels, plus a bias. Output size per axis:
/// stride·(in − 1) + output_padding + dilation·(k − 1) + 1 − pad_begin − pad_end.
/// </summary>
internal sealed class ConvTranspose : CompositeOp, IOpSamples
{
    public override OpSchema Schema { get; } = new("", "ConvTranspose", 1, 2, 3);

    public override Tensor[] Compose(ReadOnlySpan<Tensor> x, OpAttributes attributes)
    {
        var (input, w) = (x[0], x[1]);
        var rank = input.Rank - 2;
        if (rank is not (1 or 2) || w.Rank != input.Rank) throw new ShapeException($"ConvTranspose: input {input.Shape} and weight {w.Shape} must be 3-D or 4-D alike.");
        var group = attributes.GetInt("group", 1);
        if (group < 1) throw new ShapeException($"ConvTranspose: group {group} must be at least 1.");
        if (w.Shape[0] != input.Shape[1]) throw new ShapeException($"ConvTranspose: weight {w.Shape} expects {w.Shape[0]} input channels, input {input.Shape} has {input.Shape[1]}.");
        if (input.Shape[1] % group != 0) throw new ShapeException($"ConvTranspose: {input.Shape[1]} input channels do not split into {group} groups.");
        int[] Ints(string name, int fill, int count, int min)
        {
            if (!attributes.Has(name)) return Enumerable.Repeat(fill, count).ToArray();
            var v = attributes.GetInts(name);
            if (v.Length != count) throw new ShapeException($"ConvTranspose: '{name}' has {v.Length} values; a {rank}-D convolution needs {count}.");
            if (v.Any(e => e < min)) throw new ShapeException($"ConvTranspose: '{name}' [{string.Join(", ", v)}] must be at least {min}.");
            return v;
        }
        var strides = Ints("strides", 1, rank, 1);
        var dilations = Ints("dilations", 1, rank, 1);
        var pads = Ints("pads", 0, 2 * rank, 0);
        var outputPadding = Ints("output_padding", 0, rank, 0);
        var outShape = new int[input.Rank];
        outShape[0] = input.Shape[0];
        outShape[1] = checked(w.Shape[1] * group);
        for (var i = 0; i < rank; i++)
        {
            long k = w.Shape[2 + i];
            var size = (long)strides[i] * (input.Shape[2 + i] - 1) + outputPadding[i] + dilations[i] * (k - 1) + 1 - pads[i] - pads[i + rank];
            if (size is < 1 or > int.MaxValue) throw new ShapeException($"ConvTranspose: output size {size} on axis {2 + i} is out of range.");
            outShape[2 + i] = (int)size;
        }
        var convAttrs = OpAttributes.Of(("strides", strides), ("dilations", dilations), ("pads", pads), ("group", group), ("input_shape", outShape));
        var y = Ops.Call(ConvGradInput.Instance, convAttrs, input, w);
        if (x.Length == 3)
        {
            var shape = Enumerable.Repeat(1, y.Rank).ToArray();
            shape[1] = x[2].Size;
            y = Ops.Add(y, Ops.Reshape(x[2], shape));
        }
        return [y];
    }

    public IEnumerable<OpSample> Samples(Random rng)
    {
        Tensor U(params int[] s) => BinarySamples.U(rng, s, (-1, 1));
        yield return new OpSample("2-D stride 2 with bias", [U(2, 3, 4, 5), U(3, 2, 3, 3), U(2)], OpAttributes.Of(("strides", new[] { 2, 2 })));
        yield return new OpSample("2-D pads, output_padding, groups", [U(1, 4, 3, 3), U(4, 1, 2, 2)],
            OpAttributes.Of(("strides", new[] { 2, 2 }), ("pads", new[] { 1, 0, 0, 1 }), ("output_padding", new[] { 1, 1 }), ("group", 2)));
        yield return new OpSample("1-D dilation", [U(2, 2, 6), U(2, 3, 3)], OpAttributes.Of(("dilations", new[] { 2 })));
    }
}
