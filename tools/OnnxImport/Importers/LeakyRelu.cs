namespace Backprop.Onnx.Importers;

/// <summary>ONNX LeakyRelu (https://onnx.ai/onnx/operators/onnx__LeakyRelu.html), alpha default 0.01.</summary>
internal sealed class LeakyReluImporter : INodeImporter
{
    public string OpType => "LeakyRelu";

    public Tensor?[] Run(NodeContext ctx) => [Ops.LeakyRelu(ctx.Input(0), ctx.Float("alpha", 0.01f))];
}
