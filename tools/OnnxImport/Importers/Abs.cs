namespace Backprop.Onnx.Importers;

/// <summary>ONNX Abs (https://onnx.ai/onnx/operators/onnx__Abs.html), elementwise; all opsets.</summary>
internal sealed class AbsImporter : INodeImporter
{
    public string OpType => "Abs";

    public Tensor?[] Run(NodeContext ctx) => [Ops.Abs(ctx.Input(0))];
}
