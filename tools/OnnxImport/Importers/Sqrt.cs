namespace Backprop.Onnx.Importers;

/// <summary>ONNX Sqrt (https://onnx.ai/onnx/operators/onnx__Sqrt.html), elementwise; all opsets.</summary>
internal sealed class SqrtImporter : INodeImporter
{
    public string OpType => "Sqrt";

    public Tensor?[] Run(NodeContext ctx) => [Ops.Sqrt(ctx.Input(0))];
}
