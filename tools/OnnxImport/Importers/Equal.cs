namespace Backprop.Onnx.Importers;

/// <summary>ONNX Equal (https://onnx.ai/onnx/operators/onnx__Equal.html): bool result, broadcasting.</summary>
internal sealed class EqualImporter : INodeImporter
{
    public string OpType => "Equal";

    public Tensor?[] Run(NodeContext ctx) => [Ops.Equal(ctx.Input(0), ctx.Input(1))];
}
