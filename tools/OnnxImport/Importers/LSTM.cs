namespace Backprop.Onnx.Importers;

/// <summary>
/// ONNX LSTM (https://onnx.ai/onnx/operators/onnx__LSTM.html), opsets 7–22: gates in the order i, o, f, c; optional bias
/// B = [Wb, Rb], sequence_lens, initial_h, initial_c and peepholes P = [Pi, Po, Pf]; activations f, g, h (default Sigmoid,
/// Tanh, Tanh), clip, layout (opset 14). Outputs Y, Y_h, Y_c. input_forget = 1 is not supported.
/// </summary>
internal sealed class LstmImporter : INodeImporter
{
    public string OpType => "LSTM";

    public int SinceVersion => 7;

    public string? Unsupported(Backprop.Onnx.Proto.NodeProto node) => Recurrent.Unsupported(node, 3);

    public Tensor?[] Run(NodeContext ctx)
    {
        var s = Recurrent.Read(ctx, 4, ["Sigmoid", "Tanh", "Tanh"]);
        var (w, r, h) = (ctx.Input(1), ctx.Input(2), s.Hidden);
        var outputs = new List<Tensor[]>();
        var finals = new List<Tensor[]>();
        for (var d = 0; d < s.Reverse.Length; d++)
        {
            var (f, g, act) = (s.Activations[d][0], s.Activations[d][1], s.Activations[d][2]);
            Tensor? bias = null;
            if (ctx.Optional(3) is { } b)
            {
                var both = Recurrent.Direction(b, d);
                bias = Ops.Slice(both, [0], [4 * h], [0]) + Ops.Slice(both, [4 * h], [8 * h], [0]);
            }
            Tensor[]? peep = ctx.Optional(7) is { } p ? Ops.Split(Recurrent.Direction(p, d), 0, h, h, h) : null;
            var rd = Recurrent.Direction(r, d);
            var projected = Recurrent.Project(s, w, d, bias);
            var state = new[] { Recurrent.Initial(ctx, 5, s, d), Recurrent.Initial(ctx, 6, s, d) };
            var (ys, final) = Recurrent.Loop(s, d, projected, state, (gx, st) =>
            {
                var (hPrev, cPrev) = (st[0], st[1]);
                var gates = Ops.Split(gx + Ops.Gemm(hPrev, rd, transB: true), 1, h, h, h, h);
                var (iIn, oIn, fIn, cIn) = (gates[0], gates[1], gates[2], gates[3]);
                if (peep is not null)
                {
                    iIn = iIn + peep[0] * cPrev;
                    fIn = fIn + peep[2] * cPrev;
                }
                var i = f(s.Clip(iIn));
                var forget = f(s.Clip(fIn));
                var c = forget * cPrev + i * g(s.Clip(cIn));
                if (peep is not null) oIn = oIn + peep[1] * c;
                var o = f(s.Clip(oIn));
                return [o * act(c), c];
            });
            outputs.Add(ys);
            finals.Add(final);
        }
        return Recurrent.Outputs(s, outputs, finals);
    }
}
