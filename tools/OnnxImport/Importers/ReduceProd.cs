namespace Backprop.Onnx.Importers;

/// <summary>ONNX ReduceProd (https://onnx.ai/onnx/operators/onnx__ReduceProd.html): product over axes; axes input from opset 18.</summary>
internal sealed class ReduceProdImporter : ReduceImporter
{
    public override string OpType => "ReduceProd";

    protected override Tensor Reduce(Tensor x, int[] axes, bool keepDims, NodeContext ctx) => Ops.ReduceProd(x, axes, keepDims);
}
