namespace Backprop.Onnx.Importers;

/// <summary>ONNX Erf (https://onnx.ai/onnx/operators/onnx__Erf.html), elementwise; all opsets.</summary>
internal sealed class ErfImporter : INodeImporter
{
    public string OpType => "Erf";

    public Tensor?[] Run(NodeContext ctx) => [Ops.Erf(ctx.Input(0))];
}
