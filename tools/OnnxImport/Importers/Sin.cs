namespace Backprop.Onnx.Importers;

/// <summary>ONNX Sin (https://onnx.ai/onnx/operators/onnx__Sin.html), elementwise; all opsets.</summary>
internal sealed class SinImporter : INodeImporter
{
    public string OpType => "Sin";

    public Tensor?[] Run(NodeContext ctx) => [Ops.Sin(ctx.Input(0))];
}
