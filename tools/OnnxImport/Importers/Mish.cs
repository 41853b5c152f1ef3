namespace Backprop.Onnx.Importers;

/// <summary>ONNX Mish (https://onnx.ai/onnx/operators/onnx__Mish.html), opset 18: x·tanh(softplus(x)).</summary>
internal sealed class MishImporter : INodeImporter
{
    public string OpType => "Mish";

    public int SinceVersion => 18;

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        return [x * Ops.Tanh(Ops.Softplus(x))];
    }
}
