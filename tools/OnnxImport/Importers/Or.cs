namespace Backprop.Onnx.Importers;

/// <summary>ONNX Or (https://onnx.ai/onnx/operators/onnx__Or.html) on bool tensors, broadcasting.</summary>
internal sealed class OrImporter : INodeImporter
{
    public string OpType => "Or";

    public Tensor?[] Run(NodeContext ctx) => [Helpers.BoolBinary(ctx, (a, b) => a || b)];
}
