namespace Backprop.Onnx.Importers;

/// <summary>ONNX Cos (https://onnx.ai/onnx/operators/onnx__Cos.html), elementwise; all opsets.</summary>
internal sealed class CosImporter : INodeImporter
{
    public string OpType => "Cos";

    public Tensor?[] Run(NodeContext ctx) => [Ops.Cos(ctx.Input(0))];
}
