namespace Backprop.Onnx.Importers;

/// <summary>ONNX ReduceMean (https://onnx.ai/onnx/operators/onnx__ReduceMean.html): Mean; axes input from opset 18.</summary>
internal sealed class ReduceMeanImporter : ReduceImporter
{
    public override string OpType => "ReduceMean";

    protected override Tensor Reduce(Tensor x, int[] axes, bool keepDims, NodeContext ctx) => Ops.ReduceMean(x, axes, keepDims);
}
