namespace Backprop.Onnx.Importers;

/// <summary>ONNX And (https://onnx.ai/onnx/operators/onnx__And.html) on bool tensors, broadcasting.</summary>
internal sealed class AndImporter : INodeImporter
{
    public string OpType => "And";

    public Tensor?[] Run(NodeContext ctx)
    {
        var shape = Shape.Broadcast(ctx.Input(0).Shape, ctx.Input(1).Shape);
        var a = Ops.Expand(ctx.Input(0), shape).Span<bool>().ToArray();
        var b = Ops.Expand(ctx.Input(1), shape).Span<bool>().ToArray();
        return [new Tensor(a.Select((v, i) => v && b[i]).ToArray(), shape)];
    }
}
