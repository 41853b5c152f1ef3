namespace Backprop.Onnx.Importers;

/// <summary>
/// ONNX RNN (https://onnx.ai/onnx/operators/onnx__RNN.html), opsets 7–22: H = f(X·Wᵀ + H·Rᵀ + Wb + Rb) with optional
/// bias, sequence_lens and initial_h; activation f (default Tanh), clip, layout (opset 14). Outputs Y and Y_h.
/// </summary>
internal sealed class RnnImporter : INodeImporter
{
    public string OpType => "RNN";

    public int SinceVersion => 7;

    public string? Unsupported(Backprop.Onnx.Proto.NodeProto node) => Recurrent.Unsupported(node, 1);

    public Tensor?[] Run(NodeContext ctx)
    {
        var s = Recurrent.Read(ctx, 1, ["Tanh"]);
        var (w, r, h) = (ctx.Input(1), ctx.Input(2), s.Hidden);
        var outputs = new List<Tensor[]>();
        var finals = new List<Tensor[]>();
        for (var d = 0; d < s.Reverse.Length; d++)
        {
            var f = s.Activations[d][0];
            Tensor? bias = null;
            if (ctx.Optional(3) is { } b)
            {
                var both = Recurrent.Direction(b, d);
                bias = Ops.Slice(both, [0], [h], [0]) + Ops.Slice(both, [h], [2 * h], [0]);
            }
            var rd = Recurrent.Direction(r, d);
            var projected = Recurrent.Project(s, w, d, bias);
            var (ys, final) = Recurrent.Loop(s, d, projected, [Recurrent.Initial(ctx, 5, s, d)],
                (gx, st) => [f(s.Clip(gx + Ops.Gemm(st[0], rd, transB: true)))]);
            outputs.Add(ys);
            finals.Add(final);
        }
        return Recurrent.Outputs(s, outputs, finals);
    }
}
