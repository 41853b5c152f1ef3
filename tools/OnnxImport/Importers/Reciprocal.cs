namespace Backprop.Onnx.Importers;

/// <summary>ONNX Reciprocal (https://onnx.ai/onnx/operators/onnx__Reciprocal.html), elementwise; all opsets.</summary>
internal sealed class ReciprocalImporter : INodeImporter
{
    public string OpType => "Reciprocal";

    public Tensor?[] Run(NodeContext ctx) => [Ops.Reciprocal(ctx.Input(0))];
}
