namespace Backprop.Onnx.Importers;

/// <summary>ONNX Where (https://onnx.ai/onnx/operators/onnx__Where.html): three-way broadcasting.</summary>
internal sealed class WhereImporter : INodeImporter
{
    public string OpType => "Where";

    public Tensor?[] Run(NodeContext ctx) => [Ops.Where(ctx.Input(0), ctx.Input(1), ctx.Input(2))];
}
