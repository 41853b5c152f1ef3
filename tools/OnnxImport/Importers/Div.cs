namespace Backprop.Onnx.Importers;

/// <summary>ONNX Div (https://onnx.ai/onnx/operators/onnx__Div.html): NumPy broadcasting (all opsets; the legacy broadcast attribute of opsets &lt; 7 is not read). int64 operands (shape arithmetic) are computed directly.</summary>
internal sealed class DivImporter : INodeImporter
{
    public string OpType => "Div";

    public Tensor?[] Run(NodeContext ctx) => [Helpers.Arith(ctx.Input(0), ctx.Input(1), Ops.Div, (x, y) => y != 0 ? x / y : throw ctx.Error("integer division by zero."), ctx)];
}
