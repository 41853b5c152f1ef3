namespace Backprop.Onnx.Importers;

/// <summary>
/// ONNX GRU (https://onnx.ai/onnx/operators/onnx__GRU.html), opsets 7–22: gates in the order z, r, h; optional bias
/// B = [Wb, Rb], sequence_lens, initial_h; activations f, g (default Sigmoid, Tanh), clip, linear_before_reset, layout
/// (opset 14). Outputs Y and Y_h.
/// </summary>
internal sealed class GruImporter : INodeImporter
{
    public string OpType => "GRU";

    public int SinceVersion => 7;

    public string? Unsupported(Backprop.Onnx.Proto.NodeProto node) => Recurrent.Unsupported(node, 2);

    public Tensor?[] Run(NodeContext ctx)
    {
        var s = Recurrent.Read(ctx, 3, ["Sigmoid", "Tanh"]);
        var (w, r, h) = (ctx.Input(1), ctx.Input(2), s.Hidden);
        var linearBeforeReset = ctx.Int("linear_before_reset", 0) != 0;
        var outputs = new List<Tensor[]>();
        var finals = new List<Tensor[]>();
        for (var d = 0; d < s.Reverse.Length; d++)
        {
            var (f, g) = (s.Activations[d][0], s.Activations[d][1]);
            Tensor? inputBias = null, recurrentBias = null;
            if (ctx.Optional(3) is { } b)
            {
                var both = Recurrent.Direction(b, d);
                (inputBias, recurrentBias) = (Ops.Slice(both, [0], [3 * h], [0]), Ops.Slice(both, [3 * h], [6 * h], [0]));
            }
            var rParts = Ops.Split(Recurrent.Direction(r, d), 0, 2 * h, h); // [Rz; Rr] and Rh
            var rbParts = recurrentBias is null ? null : Ops.Split(recurrentBias, 0, 2 * h, h);
            // Wb and the z, r parts of Rb always add to the projection; Rbh does too unless it sits inside the reset product.
            var bias = inputBias is null ? null
                : linearBeforeReset ? inputBias + Ops.Concat(0, rbParts![0], Tensor.ZerosLike(rbParts[1]))
                : inputBias + recurrentBias!;
            var projected = Recurrent.Project(s, w, d, bias);
            var state = new[] { Recurrent.Initial(ctx, 5, s, d) };
            var (ys, final) = Recurrent.Loop(s, d, projected, state, (gx, st) =>
            {
                var hPrev = st[0];
                var x = Ops.Split(gx, 1, h, h, h);
                var zr = Ops.Split(Ops.Gemm(hPrev, rParts[0], transB: true), 1, h, h);
                var z = f(s.Clip(x[0] + zr[0]));
                var reset = f(s.Clip(x[1] + zr[1]));
                var candidate = linearBeforeReset
                    ? x[2] + reset * Ops.Gemm(hPrev, rParts[1], rbParts?[1], transB: true)
                    : x[2] + Ops.Gemm(reset * hPrev, rParts[1], transB: true);
                var hNew = g(s.Clip(candidate));
                return [(1.0 - z) * hNew + z * hPrev];
            });
            outputs.Add(ys);
            finals.Add(final);
        }
        return Recurrent.Outputs(s, outputs, finals);
    }
}
