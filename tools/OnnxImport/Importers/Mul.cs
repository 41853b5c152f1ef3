namespace Backprop.Onnx.Importers;

/// <summary>ONNX Mul (https://onnx.ai/onnx/operators/onnx__Mul.html): NumPy broadcasting (all opsets; the legacy broadcast attribute of opsets &lt; 7 is not read). int64 operands (shape arithmetic) are computed directly.</summary>
internal sealed class MulImporter : INodeImporter
{
    public string OpType => "Mul";

    public Tensor?[] Run(NodeContext ctx) => [Helpers.Arith(ctx.Input(0), ctx.Input(1), Ops.Mul, (x, y) => x * y, ctx)];
}
