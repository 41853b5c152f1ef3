namespace Backprop.Onnx.Importers;

/// <summary>ONNX Gelu (https://onnx.ai/onnx/operators/onnx__Gelu.html), opset 20: approximate "none" (erf) or "tanh".</summary>
internal sealed class GeluImporter : INodeImporter
{
    public string OpType => "Gelu";

    public int SinceVersion => 20;

    public Tensor?[] Run(NodeContext ctx) => [Ops.Gelu(ctx.Input(0), ctx.String("approximate", "none"))];
}
