namespace Backprop.Onnx.Importers;

/// <summary>ONNX Gather (https://onnx.ai/onnx/operators/onnx__Gather.html); negative indices count from the end.</summary>
internal sealed class GatherImporter : INodeImporter
{
    public string OpType => "Gather";

    public Tensor?[] Run(NodeContext ctx) => [Ops.Gather(ctx.Input(0), Ops.Cast(ctx.Input(1), DType.Int64), (int)ctx.Int("axis", 0))];
}
