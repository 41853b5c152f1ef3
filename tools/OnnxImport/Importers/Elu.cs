namespace Backprop.Onnx.Importers;

/// <summary>ONNX Elu (https://onnx.ai/onnx/operators/onnx__Elu.html), alpha default 1.</summary>
internal sealed class EluImporter : INodeImporter
{
    public string OpType => "Elu";

    public Tensor?[] Run(NodeContext ctx) => [Ops.Elu(ctx.Input(0), ctx.Float("alpha", 1f))];
}
