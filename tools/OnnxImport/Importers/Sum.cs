namespace Backprop.Onnx.Importers;

/// <summary>ONNX Sum (https://onnx.ai/onnx/operators/onnx__Sum.html): elementwise sum of all inputs.</summary>
internal sealed class SumImporter : INodeImporter
{
    public string OpType => "Sum";

    public Tensor?[] Run(NodeContext ctx) => [ctx.Variadic().Aggregate(Ops.Add)];
}
