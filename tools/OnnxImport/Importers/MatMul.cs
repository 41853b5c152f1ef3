namespace Backprop.Onnx.Importers;

/// <summary>ONNX MatMul (https://onnx.ai/onnx/operators/onnx__MatMul.html): NumPy matmul semantics (1-D operands, batch broadcasting).</summary>
internal sealed class MatMulImporter : INodeImporter
{
    public string OpType => "MatMul";

    public Tensor?[] Run(NodeContext ctx) => [Ops.MatMul(ctx.Input(0), ctx.Input(1))];
}
