namespace Backprop.Onnx.Importers;

/// <summary>ONNX LogSoftmax (https://onnx.ai/onnx/operators/onnx__LogSoftmax.html) opsets 1–12: 2-D coercion at axis.</summary>
internal sealed class LogSoftmaxLegacyImporter : INodeImporter
{
    public string OpType => "LogSoftmax";

    public int UntilVersion => 12;

    public Tensor?[] Run(NodeContext ctx)
    {
        // Before opset 13 the input is coerced to 2-D at axis (default 1) and normalised over the trailing block.
        var x = ctx.Input(0);
        var axis = Shape.NormalizeAxis((int)ctx.Int("axis", 1), x.Rank);
        var outer = x.Shape.Dims[..axis].ToArray().Aggregate(1, (a, b) => a * b);
        var y = Ops.LogSoftmax(Ops.Reshape(x, outer, x.Size / Math.Max(outer, 1)), -1);
        return [Ops.Reshape(y, x.Shape.ToArray())];
    }
}

/// <summary>ONNX LogSoftmax (https://onnx.ai/onnx/operators/onnx__LogSoftmax.html) opset 13+: along axis (default -1).</summary>
internal sealed class LogSoftmaxImporter : INodeImporter
{
    public string OpType => "LogSoftmax";

    public int SinceVersion => 13;

    public Tensor?[] Run(NodeContext ctx) => [Ops.LogSoftmax(ctx.Input(0), (int)ctx.Int("axis", -1))];
}
