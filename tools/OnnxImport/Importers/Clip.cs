namespace Backprop.Onnx.Importers;

/// <summary>ONNX Clip (https://onnx.ai/onnx/operators/onnx__Clip.html): attributes min/max before opset 11, optional scalar inputs from 11.</summary>
internal sealed class ClipImporter : INodeImporter
{
    public string OpType => "Clip";

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        double lo, hi;
        if (ctx.Opset < 11)
        {
            lo = ctx.Float("min", float.MinValue);
            hi = ctx.Float("max", float.MaxValue);
        }
        else
        {
            lo = ctx.Optional(1) is { } a ? a.Item() : double.NegativeInfinity;
            hi = ctx.Optional(2) is { } b ? b.Item() : double.PositiveInfinity;
        }
        if (x.DType == DType.Int64) return [new Tensor(x.ToInt64Array().Select(v => (long)Math.Min(Math.Max(v, lo), hi)).ToArray(), x.Shape)];
        return [Ops.Clip(x, lo, hi)];
    }
}
