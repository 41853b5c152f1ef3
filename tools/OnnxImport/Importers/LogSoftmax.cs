namespace Backprop.Onnx.Importers;

/// <summary>ONNX LogSoftmax (https://onnx.ai/onnx/operators/onnx__LogSoftmax.html) opsets 1–12: 2-D coercion at axis.</summary>
internal sealed class LogSoftmaxLegacyImporter : INodeImporter
{
    public string OpType => "LogSoftmax";

    public int UntilVersion => 12;

    public Tensor?[] Run(NodeContext ctx) => [Helpers.Coerced2D(ctx, Ops.LogSoftmax)];
}

/// <summary>ONNX LogSoftmax (https://onnx.ai/onnx/operators/onnx__LogSoftmax.html) opset 13+: along axis (default -1).</summary>
internal sealed class LogSoftmaxImporter : INodeImporter
{
    public string OpType => "LogSoftmax";

    public int SinceVersion => 13;

    public Tensor?[] Run(NodeContext ctx) => [Ops.LogSoftmax(ctx.Input(0), (int)ctx.Int("axis", -1))];
}
