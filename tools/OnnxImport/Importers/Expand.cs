namespace Backprop.Onnx.Importers;

/// <summary>ONNX Expand (https://onnx.ai/onnx/operators/onnx__Expand.html): bidirectional broadcast to the shape input.</summary>
internal sealed class ExpandImporter : INodeImporter
{
    public string OpType => "Expand";

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        var target = Shape.Broadcast(x.Shape, new Shape(ctx.Longs(1).Select(v => (int)v).ToArray()));
        return [Ops.Expand(x, target)];
    }
}
