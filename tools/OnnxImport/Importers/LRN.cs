namespace Backprop.Onnx.Importers;

/// <summary>
/// ONNX LRN (https://onnx.ai/onnx/operators/onnx__LRN.html): y = x / (bias + alpha/size · Σ x²)^beta, the sum over
/// `size` neighbouring channels (floor((size−1)/2) before, ceil((size−1)/2) after), written as a channel pad plus
/// shifted slices so it stays differentiable.
/// </summary>
internal sealed class LRNImporter : INodeImporter
{
    public string OpType => "LRN";

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        var size = (int)ctx.Int("size");
        var (alpha, beta, bias) = (ctx.Float("alpha", 1e-4f), ctx.Float("beta", 0.75f), ctx.Float("bias", 1f));
        var before = (size - 1) / 2;
        var after = size - 1 - before;
        var channels = x.Shape[1];
        var pads = new int[2 * x.Rank];
        pads[1] = before;
        pads[1 + x.Rank] = after;
        var padded = Ops.Pad(x * x, pads);
        Tensor? sum = null;
        for (var i = 0; i < size; i++)
        {
            var window = Ops.Slice(padded, [i], [i + channels], [1]);
            sum = sum is null ? window : sum + window;
        }
        return [x / Ops.Pow(sum! * (alpha / size) + bias, Ops.ScalarLike(x, beta))];
    }
}
