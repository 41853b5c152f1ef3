namespace Backprop.Onnx.Importers;

/// <summary>ONNX GlobalMaxPool (https://onnx.ai/onnx/operators/onnx__GlobalMaxPool.html).</summary>
internal sealed class GlobalMaxPoolImporter : INodeImporter
{
    public string OpType => "GlobalMaxPool";

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        return [Ops.ReduceMax(x, Enumerable.Range(2, x.Rank - 2).ToArray(), keepDims: true)];
    }
}
