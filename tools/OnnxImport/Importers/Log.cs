namespace Backprop.Onnx.Importers;

/// <summary>ONNX Log (https://onnx.ai/onnx/operators/onnx__Log.html), elementwise; all opsets.</summary>
internal sealed class LogImporter : INodeImporter
{
    public string OpType => "Log";

    public Tensor?[] Run(NodeContext ctx) => [Ops.Log(ctx.Input(0))];
}
