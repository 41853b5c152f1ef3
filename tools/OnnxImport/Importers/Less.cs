namespace Backprop.Onnx.Importers;

/// <summary>ONNX Less (https://onnx.ai/onnx/operators/onnx__Less.html): bool result, broadcasting.</summary>
internal sealed class LessImporter : INodeImporter
{
    public string OpType => "Less";

    public Tensor?[] Run(NodeContext ctx) => [Ops.Less(ctx.Input(0), ctx.Input(1))];
}
