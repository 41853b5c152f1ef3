namespace Backprop.Onnx.Importers;

/// <summary>ONNX ReduceMax (https://onnx.ai/onnx/operators/onnx__ReduceMax.html): Maximum (ties share the gradient); axes input from opset 18.</summary>
internal sealed class ReduceMaxImporter : ReduceImporter
{
    public override string OpType => "ReduceMax";

    protected override Tensor Reduce(Tensor x, int[] axes, bool keepDims, NodeContext ctx) =>
        ThroughFloat64.Apply(x, v => Ops.ReduceMax(v, axes, keepDims), ctx);
}
