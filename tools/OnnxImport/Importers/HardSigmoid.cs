namespace Backprop.Onnx.Importers;

/// <summary>ONNX HardSigmoid (https://onnx.ai/onnx/operators/onnx__HardSigmoid.html): max(0, min(1, alpha·x + beta)).</summary>
internal sealed class HardSigmoidImporter : INodeImporter
{
    public string OpType => "HardSigmoid";

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        return [Ops.Clip(x * ctx.Float("alpha", 0.2f) + ctx.Float("beta", 0.5f), 0, 1)];
    }
}
