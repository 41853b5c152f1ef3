namespace Backprop.Onnx.Importers;

/// <summary>ONNX Softplus (https://onnx.ai/onnx/operators/onnx__Softplus.html), elementwise; all opsets.</summary>
internal sealed class SoftplusImporter : INodeImporter
{
    public string OpType => "Softplus";

    public Tensor?[] Run(NodeContext ctx) => [Ops.Softplus(ctx.Input(0))];
}
