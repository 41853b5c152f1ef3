namespace Backprop.Onnx.Importers;

/// <summary>
/// ONNX ConvTranspose (https://onnx.ai/onnx/operators/onnx__ConvTranspose.html), 1-D and 2-D (3-D composed from 2-D,
/// <see cref="Volumetric"/>): strides, pads, dilations,
/// group, output_padding, output_shape and auto_pad SAME_UPPER / SAME_LOWER (pads from the spec's rule; an output
/// larger than the natural size is extended with zeros, and the bias, at the end).
/// </summary>
internal sealed class ConvTransposeImporter : INodeImporter
{
    public string OpType => "ConvTranspose";

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        var w = ctx.Input(1);
        var rank = x.Rank - 2;
        if (rank < 1 || w.Rank != x.Rank) throw ctx.Error($"input {x.Shape} and weight {w.Shape} must have the same rank, at least 3.");
        foreach (var (name, count) in new[] { ("strides", rank), ("dilations", rank), ("output_padding", rank), ("pads", 2 * rank) })
        {
            if (ctx.Ints(name) is { } v && v.Length != count) throw ctx.Error($"'{name}' has {v.Length} values; a {rank}-D convolution needs {count}.");
        }
        var attrs = OpAttributes.Empty;
        foreach (var name in new[] { "strides", "dilations", "output_padding" })
            if (ctx.Ints(name) is { } v) attrs = attrs.With(name, v);
        attrs = attrs.With("group", ctx.Int("group", 1));
        var autoPad = ctx.String("auto_pad", "NOTSET");
        var outputShape = ctx.Ints("output_shape");
        int[]? grown = null;
        if (outputShape is null && autoPad is "SAME_UPPER" or "SAME_LOWER")
            outputShape = Enumerable.Range(0, rank).Select(i => (long)x.Shape[2 + i] * (ctx.Ints("strides")?[i] ?? 1)).ToArray();
        if (outputShape is not null)
        {
            // The spec's pad rule for a requested output size: total = stride·(in−1) + output_padding + dilation·(k−1) + 1 − out.
            if (outputShape.Length < rank) throw ctx.Error($"output_shape has {outputShape.Length} values; a {rank}-D convolution needs {rank}.");
            var spatial = outputShape.Length == rank ? outputShape : outputShape[^rank..];
            var pads = new int[2 * rank];
            grown = new int[rank];
            for (var i = 0; i < rank; i++)
            {
                var stride = ctx.Ints("strides")?[i] ?? 1;
                var dilation = ctx.Ints("dilations")?[i] ?? 1;
                var outputPadding = ctx.Ints("output_padding")?[i] ?? 0;
                var wide = (Int128)stride * (x.Shape[2 + i] - 1) + outputPadding + (Int128)(w.Shape[2 + i] - 1) * dilation + 1 - spatial[i];
                if (wide < int.MinValue / 2 || wide > int.MaxValue / 2) throw ctx.Error($"output_shape {spatial[i]} on axis {2 + i} implies padding out of range.");
                var total = (int)wide;
                // An output larger than the natural size (negative padding) gets zeros at the end, as ONNX Runtime does.
                if (total < 0) (grown[i], total) = (-total, 0);
                // The spec's split: SAME_UPPER puts the odd pad at the end, otherwise at the start (ONNX Runtime changed to
                // this in 2022; onnx 1.22's test data expects it).
                (pads[i], pads[i + rank]) = autoPad == "SAME_UPPER" ? (total / 2, total - total / 2) : (total - total / 2, total / 2);
            }
            attrs = attrs.With("pads", pads);
        }
        else if (ctx.Ints("pads") is { } p) attrs = attrs.With("pads", p);
        Tensor Transposed(Tensor? b) => rank == 3 ? Volumetric.ConvTranspose(x, w, b, attrs, ctx)
            : b is not null ? Ops.Call("ConvTranspose", attrs, x, w, b) : Ops.Call("ConvTranspose", attrs, x, w);
        if (grown is null || grown.All(e => e == 0)) return [Transposed(ctx.Optional(2))];
        var ends = new int[2 * x.Rank];
        for (var i = 0; i < rank; i++) ends[x.Rank + 2 + i] = grown[i];
        var y = Ops.Pad(Transposed(null), ends);
        if (ctx.Optional(2) is not { } bias) return [y];
        var channels = new int[x.Rank];
        Array.Fill(channels, 1);
        channels[1] = bias.Size;
        return [y + Ops.Reshape(bias, channels)];
    }
}
