namespace Backprop.Onnx.Importers;

/// <summary>ONNX Sub (https://onnx.ai/onnx/operators/onnx__Sub.html): NumPy broadcasting (all opsets; the legacy broadcast attribute of opsets &lt; 7 is not read). int64 operands (shape arithmetic) are computed directly.</summary>
internal sealed class SubImporter : INodeImporter
{
    public string OpType => "Sub";

    public Tensor?[] Run(NodeContext ctx) => [Helpers.Arith(ctx.Input(0), ctx.Input(1), Ops.Sub, (x, y) => x - y, ctx)];
}
