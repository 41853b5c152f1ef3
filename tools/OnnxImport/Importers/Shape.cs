namespace Backprop.Onnx.Importers;

/// <summary>ONNX Shape (https://onnx.ai/onnx/operators/onnx__Shape.html): int64 dims, with start/end from opset 15.</summary>
internal sealed class ShapeImporter : INodeImporter
{
    public string OpType => "Shape";

    public Tensor?[] Run(NodeContext ctx)
    {
        var dims = ctx.Input(0).Shape.Dims.ToArray().Select(d => (long)d).ToArray();
        var rank = dims.Length;
        var start = (int)ctx.Int("start", 0);
        var end = (int)ctx.Int("end", rank);
        start = Math.Clamp(start < 0 ? start + rank : start, 0, rank);
        end = Math.Clamp(end < 0 ? end + rank : end, 0, rank);
        return [Tensor.FromArray(dims[start..Math.Max(start, end)])];
    }
}
