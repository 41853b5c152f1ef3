namespace Backprop.Onnx.Importers;

/// <summary>ONNX Slice (https://onnx.ai/onnx/operators/onnx__Slice.html): attributes before opset 10, inputs (with steps) from 10; clamped, negative indices.</summary>
internal sealed class SliceImporter : INodeImporter
{
    public string OpType => "Slice";

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        long[] starts, ends, axes, steps;
        if (ctx.Opset < 10)
        {
            starts = ctx.Ints("starts") ?? throw ctx.Error("starts is required.");
            ends = ctx.Ints("ends") ?? throw ctx.Error("ends is required.");
            axes = ctx.Ints("axes") ?? Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
            steps = Enumerable.Repeat(1L, starts.Length).ToArray();
        }
        else
        {
            starts = ctx.Longs(1);
            ends = ctx.Longs(2);
            axes = ctx.Optional(3)?.ToInt64Array() ?? Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
            steps = ctx.Optional(4)?.ToInt64Array() ?? Enumerable.Repeat(1L, starts.Length).ToArray();
        }
        static int Clamp(long v) => (int)Math.Clamp(v, int.MinValue + 1L, int.MaxValue);
        return [Ops.Slice(x, starts.Select(Clamp).ToArray(), ends.Select(Clamp).ToArray(), axes.Select(Clamp).ToArray(), steps.Select(Clamp).ToArray())];
    }
}
