namespace Backprop.Onnx.Importers;

/// <summary>ONNX Min (https://onnx.ai/onnx/operators/onnx__Min.html): elementwise over any number of inputs, broadcasting.</summary>
internal sealed class MinImporter : INodeImporter
{
    public string OpType => "Min";

    public Tensor?[] Run(NodeContext ctx) =>
        [ctx.Variadic().Aggregate((a, b) => Helpers.Arith(a, b, Ops.Minimum, Math.Min, ctx))];
}
