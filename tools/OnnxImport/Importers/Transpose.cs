namespace Backprop.Onnx.Importers;

/// <summary>ONNX Transpose (https://onnx.ai/onnx/operators/onnx__Transpose.html); perm defaults to reversing.</summary>
internal sealed class TransposeImporter : INodeImporter
{
    public string OpType => "Transpose";

    public Tensor?[] Run(NodeContext ctx) => [Ops.Transpose(ctx.Input(0), ctx.Ints("perm")?.Select(v => (int)v).ToArray() ?? [])];
}
