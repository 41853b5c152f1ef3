namespace Backprop.Onnx.Importers;

/// <summary>ONNX Neg (https://onnx.ai/onnx/operators/onnx__Neg.html); int64 negated directly.</summary>
internal sealed class NegImporter : INodeImporter
{
    public string OpType => "Neg";

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        return [x.DType == DType.Int64 ? new Tensor(x.ToInt64Array().Select(v => -v).ToArray(), x.Shape) : Ops.Neg(x)];
    }
}
