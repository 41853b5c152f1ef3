namespace Backprop.Onnx.Importers;

/// <summary>ONNX Softmax (https://onnx.ai/onnx/operators/onnx__Softmax.html) opsets 1–12: 2-D coercion at axis.</summary>
internal sealed class SoftmaxLegacyImporter : INodeImporter
{
    public string OpType => "Softmax";

    public int UntilVersion => 12;

    public Tensor?[] Run(NodeContext ctx) => [Helpers.Coerced2D(ctx, Ops.Softmax)];
}

/// <summary>ONNX Softmax (https://onnx.ai/onnx/operators/onnx__Softmax.html) opset 13+: along axis (default -1).</summary>
internal sealed class SoftmaxImporter : INodeImporter
{
    public string OpType => "Softmax";

    public int SinceVersion => 13;

    public Tensor?[] Run(NodeContext ctx) => [Ops.Softmax(ctx.Input(0), (int)ctx.Int("axis", -1))];
}
