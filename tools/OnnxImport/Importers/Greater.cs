namespace Backprop.Onnx.Importers;

/// <summary>ONNX Greater (https://onnx.ai/onnx/operators/onnx__Greater.html): bool result, broadcasting.</summary>
internal sealed class GreaterImporter : INodeImporter
{
    public string OpType => "Greater";

    public Tensor?[] Run(NodeContext ctx) => [Ops.Greater(ctx.Input(0), ctx.Input(1))];
}
