namespace Backprop.Onnx.Importers;

/// <summary>ONNX Softsign (https://onnx.ai/onnx/operators/onnx__Softsign.html): x / (1 + |x|).</summary>
internal sealed class SoftsignImporter : INodeImporter
{
    public string OpType => "Softsign";

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        return [x / (Ops.Abs(x) + 1.0)];
    }
}
