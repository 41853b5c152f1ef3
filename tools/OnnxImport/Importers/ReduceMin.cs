namespace Backprop.Onnx.Importers;

/// <summary>ONNX ReduceMin (https://onnx.ai/onnx/operators/onnx__ReduceMin.html): Minimum (ties share the gradient); axes input from opset 18.</summary>
internal sealed class ReduceMinImporter : ReduceImporter
{
    public override string OpType => "ReduceMin";

    protected override Tensor Reduce(Tensor x, int[] axes, bool keepDims, NodeContext ctx) =>
        ThroughFloat64.Apply(x, v => Ops.ReduceMin(v, axes, keepDims), ctx);
}
