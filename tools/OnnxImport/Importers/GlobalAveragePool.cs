namespace Backprop.Onnx.Importers;

/// <summary>ONNX GlobalAveragePool (https://onnx.ai/onnx/operators/onnx__GlobalAveragePool.html).</summary>
internal sealed class GlobalAveragePoolImporter : INodeImporter
{
    public string OpType => "GlobalAveragePool";

    public Tensor?[] Run(NodeContext ctx) => [Ops.Call("GlobalAveragePool", ctx.Input(0))];
}
