namespace Backprop.Onnx.Importers;

/// <summary>ONNX Identity (https://onnx.ai/onnx/operators/onnx__Identity.html).</summary>
internal sealed class IdentityImporter : INodeImporter
{
    public string OpType => "Identity";

    public Tensor?[] Run(NodeContext ctx) => [ctx.Input(0)];
}
