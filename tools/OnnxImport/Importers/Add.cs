namespace Backprop.Onnx.Importers;

/// <summary>ONNX Add (https://onnx.ai/onnx/operators/onnx__Add.html): NumPy broadcasting (all opsets; the legacy broadcast attribute of opsets &lt; 7 is not read). int64 operands (shape arithmetic) are computed directly.</summary>
internal sealed class AddImporter : INodeImporter
{
    public string OpType => "Add";

    public Tensor?[] Run(NodeContext ctx) => [Helpers.Arith(ctx.Input(0), ctx.Input(1), Ops.Add, (x, y) => x + y, ctx)];
}
