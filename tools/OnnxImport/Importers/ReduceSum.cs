namespace Backprop.Onnx.Importers;

/// <summary>ONNX ReduceSum (https://onnx.ai/onnx/operators/onnx__ReduceSum.html).</summary>
internal sealed class ReduceSumImporter : INodeImporter
{
    public string OpType => "ReduceSum";

    public Tensor?[] Run(NodeContext ctx)
    {
        // Axes: attribute before opset 13, optional input from 13; empty means all unless noop_with_empty_axes.
        var x = ctx.Input(0);
        var raw = ctx.Opset < 13 ? ctx.Ints("axes") : ctx.Optional(1)?.ToInt64Array();
        var keep = ctx.Int("keepdims", 1) != 0;
        if ((raw is null || raw.Length == 0) && ctx.Int("noop_with_empty_axes", 0) != 0) return [x];
        var axes = raw is null || raw.Length == 0 ? Enumerable.Range(0, x.Rank).ToArray() : Helpers.Axes(raw, x.Rank);
        return [Ops.ReduceSum(x, axes, keep)];
    }
}
