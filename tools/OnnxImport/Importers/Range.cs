namespace Backprop.Onnx.Importers;

/// <summary>ONNX Range (https://onnx.ai/onnx/operators/onnx__Range.html).</summary>
internal sealed class RangeImporter : INodeImporter
{
    public string OpType => "Range";

    public Tensor?[] Run(NodeContext ctx)
    {
        var (start, limit, delta) = (ctx.Input(0), ctx.Input(1), ctx.Input(2));
        var (s, l, d) = (start.Item(), limit.Item(), delta.Item());
        if (d == 0) throw ctx.Error("delta is 0.");
        var n = Math.Max(0, (long)Math.Ceiling((l - s) / d));
        if (n > int.MaxValue) throw ctx.Error($"Range of {n} elements is too large.");
        var values = Enumerable.Range(0, (int)n).Select(i => s + i * d).ToArray();
        return [Tensor.FromDoubles(values, new Shape((int)n), start.DType)];
    }
}
