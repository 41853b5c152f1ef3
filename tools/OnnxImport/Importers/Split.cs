namespace Backprop.Onnx.Importers;

/// <summary>ONNX Split (https://onnx.ai/onnx/operators/onnx__Split.html): split attribute before 13, input from 13, num_outputs (uneven last chunk) from 18.</summary>
internal sealed class SplitImporter : INodeImporter
{
    public string OpType => "Split";

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        var axis = Shape.NormalizeAxis((int)ctx.Int("axis", 0), x.Rank);
        var parts = ctx.Node.Output.Count;
        var sizes = (ctx.Opset < 13 ? ctx.Ints("split") : ctx.Optional(1)?.ToInt64Array())?.Select(v => (int)v).ToArray();
        if (sizes is null || sizes.Length == 0)
        {
            var n = ctx.Opset >= 18 && ctx.Has("num_outputs") ? (int)Math.Clamp(ctx.Int("num_outputs"), int.MinValue, int.MaxValue) : parts;
            if (n < 1 || n != parts) throw ctx.Error($"num_outputs {n} must equal the node's {parts} outputs.");
            var dim = x.Shape.Dims[axis];
            var chunk = (dim + n - 1) / n;
            sizes = Enumerable.Range(0, n).Select(i => Math.Max(0, Math.Min(chunk, dim - i * chunk))).ToArray();
        }
        return Ops.Split(x, axis, sizes);
    }
}
