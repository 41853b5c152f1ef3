namespace Backprop.Onnx.Importers;

/// <summary>ONNX Sign (https://onnx.ai/onnx/operators/onnx__Sign.html), elementwise; all opsets.</summary>
internal sealed class SignImporter : INodeImporter
{
    public string OpType => "Sign";

    public Tensor?[] Run(NodeContext ctx) => [Ops.Sign(ctx.Input(0))];
}
