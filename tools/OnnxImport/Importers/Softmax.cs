namespace Backprop.Onnx.Importers;

/// <summary>ONNX Softmax (https://onnx.ai/onnx/operators/onnx__Softmax.html) opsets 1–12: 2-D coercion at axis.</summary>
internal sealed class SoftmaxLegacyImporter : INodeImporter
{
    public string OpType => "Softmax";

    public int UntilVersion => 12;

    public Tensor?[] Run(NodeContext ctx)
    {
        // Before opset 13 the input is coerced to 2-D at axis (default 1) and normalised over the trailing block.
        var x = ctx.Input(0);
        var axis = Shape.NormalizeAxis((int)ctx.Int("axis", 1), x.Rank);
        var outer = x.Shape.Dims[..axis].ToArray().Aggregate(1, (a, b) => a * b);
        var y = Ops.Softmax(Ops.Reshape(x, outer, x.Size / Math.Max(outer, 1)), -1);
        return [Ops.Reshape(y, x.Shape.ToArray())];
    }
}

/// <summary>ONNX Softmax (https://onnx.ai/onnx/operators/onnx__Softmax.html) opset 13+: along axis (default -1).</summary>
internal sealed class SoftmaxImporter : INodeImporter
{
    public string OpType => "Softmax";

    public int SinceVersion => 13;

    public Tensor?[] Run(NodeContext ctx) => [Ops.Softmax(ctx.Input(0), (int)ctx.Int("axis", -1))];
}
