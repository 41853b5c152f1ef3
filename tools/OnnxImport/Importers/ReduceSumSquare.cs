namespace Backprop.Onnx.Importers;

/// <summary>ONNX ReduceSumSquare (https://onnx.ai/onnx/operators/onnx__ReduceSumSquare.html): Σ x²; axes input from opset 18.</summary>
internal sealed class ReduceSumSquareImporter : ReduceImporter
{
    public override string OpType => "ReduceSumSquare";

    protected override Tensor Reduce(Tensor x, int[] axes, bool keepDims, NodeContext ctx) => Ops.ReduceSum(x * x, axes, keepDims);
}
