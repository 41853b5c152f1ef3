namespace Backprop.Onnx.Importers;

/// <summary>ONNX Pow (https://onnx.ai/onnx/operators/onnx__Pow.html); the exponent is cast to the base type (opset 12+ allows mixed types).</summary>
internal sealed class PowImporter : INodeImporter
{
    public string OpType => "Pow";

    public Tensor?[] Run(NodeContext ctx) => [Helpers.Arith(ctx.Input(0), Ops.Cast(ctx.Input(1), ctx.Input(0).DType), Ops.Pow, (x, y) => (long)Math.Pow(x, y), ctx)];
}
