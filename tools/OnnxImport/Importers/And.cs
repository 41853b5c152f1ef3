namespace Backprop.Onnx.Importers;

/// <summary>ONNX And (https://onnx.ai/onnx/operators/onnx__And.html) on bool tensors, broadcasting.</summary>
internal sealed class AndImporter : INodeImporter
{
    public string OpType => "And";

    public Tensor?[] Run(NodeContext ctx) => [Helpers.BoolBinary(ctx, (a, b) => a && b)];
}
