namespace Backprop.Onnx.Importers;

/// <summary>ONNX Pad (https://onnx.ai/onnx/operators/onnx__Pad.html), constant mode: attributes before opset 11, inputs (and axes, 18) after; negative pads crop.</summary>
internal sealed class PadImporter : INodeImporter
{
    public string OpType => "Pad";

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        var mode = ctx.String("mode", "constant");
        if (mode != "constant") throw ctx.Error($"pad mode '{mode}' is not supported (constant only).");
        long[] pads;
        double value;
        if (ctx.Opset < 11)
        {
            pads = ctx.Ints("pads") ?? throw ctx.Error("pads is required.");
            value = ctx.Float("value", 0f);
        }
        else
        {
            pads = ctx.Longs(1);
            value = ctx.Optional(2) is { Size: > 0 } v ? v.Item() : 0;
            if (ctx.Optional(3) is { } axesInput)
            {
                var axes = Helpers.Axes(axesInput.ToInt64Array(), x.Rank);
                if (pads.Length != 2 * axes.Length) throw ctx.Error($"{pads.Length} pads for {axes.Length} axes; 2 per axis expected.");
                var full = new long[2 * x.Rank];
                for (var i = 0; i < axes.Length; i++)
                {
                    full[axes[i]] = pads[i];
                    full[axes[i] + x.Rank] = pads[i + axes.Length];
                }
                pads = full;
            }
        }
        if (pads.Length != 2 * x.Rank) throw ctx.Error($"{pads.Length} pads for input {x.Shape}; 2 per axis ({2 * x.Rank}) expected.");
        if (pads.Any(p => p is < -int.MaxValue or > int.MaxValue)) throw ctx.Error($"pads [{string.Join(", ", pads)}] are out of range.");
        if (pads.Any(p => p < 0))
        {
            // Negative pads crop: slice first, then pad the rest.
            var starts = Enumerable.Range(0, x.Rank).Select(i => (int)Math.Max(0, -pads[i])).ToArray();
            var ends = Enumerable.Range(0, x.Rank).Select(i => x.Shape.Dims[i] - (int)Math.Max(0, -pads[i + x.Rank])).ToArray();
            x = Ops.Slice(x, starts, ends);
            pads = pads.Select(p => Math.Max(0, p)).ToArray();
        }
        return [Ops.Pad(x, pads.Select(p => (int)p).ToArray(), value)];
    }
}
