namespace Backprop.Onnx.Importers;

/// <summary>ONNX Relu (https://onnx.ai/onnx/operators/onnx__Relu.html), elementwise; all opsets.</summary>
internal sealed class ReluImporter : INodeImporter
{
    public string OpType => "Relu";

    public Tensor?[] Run(NodeContext ctx) => [Ops.Relu(ctx.Input(0))];
}
