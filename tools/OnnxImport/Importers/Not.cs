namespace Backprop.Onnx.Importers;

/// <summary>ONNX Not (https://onnx.ai/onnx/operators/onnx__Not.html) on bool tensors.</summary>
internal sealed class NotImporter : INodeImporter
{
    public string OpType => "Not";

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        return [new Tensor(x.Span<bool>().ToArray().Select(v => !v).ToArray(), x.Shape)];
    }
}
