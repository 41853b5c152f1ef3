namespace Backprop.Onnx.Importers;

/// <summary>ONNX Size (https://onnx.ai/onnx/operators/onnx__Size.html).</summary>
internal sealed class SizeImporter : INodeImporter
{
    public string OpType => "Size";

    public Tensor?[] Run(NodeContext ctx) => [new Tensor(new long[] { ctx.Input(0).Size }, Shape.Scalar)];
}
