namespace Backprop.Onnx.Importers;

/// <summary>
/// ONNX Trilu (https://onnx.ai/onnx/operators/onnx__Trilu.html, opset 14): keeps the upper (attribute upper = 1, the
/// default) or lower triangle of the last two axes, shifted by the optional int64 input k; the rest becomes zero (false).
/// Floating inputs go through Where, so gradients flow through the kept part; integer and bool inputs are computed directly.
/// </summary>
internal sealed class TriluImporter : INodeImporter
{
    public string OpType => "Trilu";

    public int SinceVersion => 14;

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        if (x.Rank < 2) throw ctx.Error($"input {x.Shape} needs at least two axes.");
        var k = ctx.Optional(1) is { } kt ? (kt.Size == 1 ? kt.ToInt64Array()[0] : throw ctx.Error($"k must hold one value, not {kt.Shape}.")) : 0L;
        var upper = ctx.Int("upper", 1) != 0;
        var (rows, cols) = (x.Shape[-2], x.Shape[-1]);
        var keep = new bool[rows * cols];
        for (var i = 0; i < rows; i++)
        for (var j = 0; j < cols; j++)
            keep[i * cols + j] = upper ? j - i >= k : j - i <= k;
        var mask = new Tensor(keep, new Shape(rows, cols));
        if (x.DType.IsFloatingPoint()) return [Ops.Where(mask, x, Ops.ScalarLike(x, 0))];
        var result = x.Clone();
        var plane = rows * cols;
        for (var start = 0; start < x.Size; start += plane)
        {
            for (var e = 0; e < plane; e++)
            {
                if (keep[e]) continue;
                if (x.DType == DType.Bool) result.Span<bool>()[start + e] = false;
                else result.Span<long>()[start + e] = 0;
            }
        }
        return [result];
    }
}
