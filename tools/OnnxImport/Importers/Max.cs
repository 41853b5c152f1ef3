namespace Backprop.Onnx.Importers;

/// <summary>ONNX Max (https://onnx.ai/onnx/operators/onnx__Max.html): elementwise over any number of inputs, broadcasting.</summary>
internal sealed class MaxImporter : INodeImporter
{
    public string OpType => "Max";

    public Tensor?[] Run(NodeContext ctx) =>
        [ctx.Variadic().Aggregate((a, b) => Helpers.Arith(a, b, Ops.Maximum, Math.Max, ctx))];
}
