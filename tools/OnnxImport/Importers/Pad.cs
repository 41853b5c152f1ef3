namespace Backprop.Onnx.Importers;

/// <summary>
/// ONNX Pad (https://onnx.ai/onnx/operators/onnx__Pad.html): constant, reflect, edge and wrap modes; attributes before
/// opset 11, inputs (and axes, 18) after; negative pads crop. The non-constant modes gather source positions per axis, so
/// their gradient adds up every copy of an element.
/// </summary>
internal sealed class PadImporter : INodeImporter
{
    public string OpType => "Pad";

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        var mode = ctx.String("mode", "constant");
        if (mode is not ("constant" or "reflect" or "edge" or "wrap")) throw ctx.Error($"pad mode '{mode}' is not one of constant, reflect, edge and wrap.");
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
        if (mode == "constant") return [Ops.Pad(x, pads.Select(p => (int)p).ToArray(), value)];
        for (var axis = 0; axis < x.Rank; axis++)
        {
            var (before, after, n) = (pads[axis], pads[axis + x.Rank], (long)x.Shape[axis]);
            if (before == 0 && after == 0) continue;
            if (n == 0) throw ctx.Error($"cannot {mode}-pad the empty axis {axis} of {x.Shape}.");
            if (mode == "reflect" && (before >= n || after >= n)) throw ctx.Error($"reflect pads [{before}, {after}] on axis {axis} must be smaller than its size {n}.");
            if (n + before + after > int.MaxValue) throw ctx.Error($"padding axis {axis} to {n + before + after} elements is out of range.");
            var index = new long[n + before + after];
            for (var j = 0; j < index.Length; j++)
            {
                var src = j - before;
                index[j] = mode switch
                {
                    "edge" => Math.Clamp(src, 0, n - 1),
                    "wrap" => ((src % n) + n) % n,
                    _ => src < 0 ? -src : src >= n ? 2 * (n - 1) - src : src,
                };
            }
            x = Ops.Gather(x, new Tensor(index, new Shape(index.Length)), axis);
        }
        return [x];
    }
}
