namespace Backprop.Onnx.Importers;

/// <summary>ONNX ReduceL2 (https://onnx.ai/onnx/operators/onnx__ReduceL2.html): sqrt(Σ x²); axes input from opset 18.</summary>
internal sealed class ReduceL2Importer : ReduceImporter
{
    public override string OpType => "ReduceL2";

    protected override Tensor Reduce(Tensor x, int[] axes, bool keepDims, NodeContext ctx) => Ops.Sqrt(Ops.ReduceSum(x * x, axes, keepDims));
}
