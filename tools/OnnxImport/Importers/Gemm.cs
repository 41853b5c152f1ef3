namespace Backprop.Onnx.Importers;

/// <summary>ONNX Gemm (https://onnx.ai/onnx/operators/onnx__Gemm.html): alpha·op(A)·op(B) + beta·C, C optional and unidirectionally broadcast.</summary>
internal sealed class GemmImporter : INodeImporter
{
    public string OpType => "Gemm";

    public Tensor?[] Run(NodeContext ctx) =>
        [Ops.Gemm(ctx.Input(0), ctx.Input(1), ctx.Optional(2), ctx.Float("alpha", 1f), ctx.Float("beta", 1f), ctx.Int("transA", 0) != 0, ctx.Int("transB", 0) != 0)];
}
