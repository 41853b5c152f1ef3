namespace Backprop.Onnx.Importers;

/// <summary>ONNX ReduceSum (https://onnx.ai/onnx/operators/onnx__ReduceSum.html): Sum; axes input from opset 13.</summary>
internal sealed class ReduceSumImporter : ReduceImporter
{
    public override string OpType => "ReduceSum";

    protected override int AxesInputSince => 13;

    protected override Tensor Reduce(Tensor x, int[] axes, bool keepDims, NodeContext ctx) => Ops.ReduceSum(x, axes, keepDims);
}
