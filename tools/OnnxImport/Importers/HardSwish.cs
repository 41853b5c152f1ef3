namespace Backprop.Onnx.Importers;

/// <summary>ONNX HardSwish (https://onnx.ai/onnx/operators/onnx__HardSwish.html), opset 14: x·HardSigmoid(x) with alpha 1/6, beta 0.5.</summary>
internal sealed class HardSwishImporter : INodeImporter
{
    public string OpType => "HardSwish";

    public int SinceVersion => 14;

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        return [x * Ops.Clip(x * (1.0 / 6) + 0.5, 0, 1)];
    }
}
