namespace Backprop.Onnx.Importers;

/// <summary>ONNX Exp (https://onnx.ai/onnx/operators/onnx__Exp.html), elementwise; all opsets.</summary>
internal sealed class ExpImporter : INodeImporter
{
    public string OpType => "Exp";

    public Tensor?[] Run(NodeContext ctx) => [Ops.Exp(ctx.Input(0))];
}
