namespace Backprop.Onnx.Importers;

/// <summary>ONNX Cast (https://onnx.ai/onnx/operators/onnx__Cast.html); integer targets map to int64, float16 to float32.</summary>
internal sealed class CastImporter : INodeImporter
{
    public string OpType => "Cast";

    public Tensor?[] Run(NodeContext ctx) => [Ops.Cast(ctx.Input(0), Helpers.ToDType(ctx.Int("to"), ctx))];
}
