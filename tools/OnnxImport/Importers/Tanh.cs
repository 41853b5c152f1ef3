namespace Backprop.Onnx.Importers;

/// <summary>ONNX Tanh (https://onnx.ai/onnx/operators/onnx__Tanh.html), elementwise; all opsets.</summary>
internal sealed class TanhImporter : INodeImporter
{
    public string OpType => "Tanh";

    public Tensor?[] Run(NodeContext ctx) => [Ops.Tanh(ctx.Input(0))];
}
