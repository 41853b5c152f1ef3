namespace Backprop.Onnx.Importers;

/// <summary>ONNX Sigmoid (https://onnx.ai/onnx/operators/onnx__Sigmoid.html), elementwise; all opsets.</summary>
internal sealed class SigmoidImporter : INodeImporter
{
    public string OpType => "Sigmoid";

    public Tensor?[] Run(NodeContext ctx) => [Ops.Sigmoid(ctx.Input(0))];
}
