namespace Backprop.Onnx.Importers;

/// <summary>ONNX Dropout (https://onnx.ai/onnx/operators/onnx__Dropout.html): identity in inference; scaled random mask when training.</summary>
internal sealed class DropoutImporter : INodeImporter
{
    public string OpType => "Dropout";

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        var training = ctx.Opset >= 12 ? ctx.Optional(2) is { } t && t.Item() != 0 : ctx.Training;
        var ratio = ctx.Opset >= 12 ? ctx.Optional(1)?.Item() ?? 0.5 : ctx.Float("ratio", 0.5f);
        if (!training || ratio == 0) return [x, Tensor.Full(x.Shape, 1, DType.Bool)];
        var keep = new bool[x.Size];
        var rng = ctx.Random;
        for (var i = 0; i < keep.Length; i++) keep[i] = rng.NextDouble() >= ratio;
        var mask = new Tensor(keep, x.Shape);
        return [Ops.Where(mask, x * (1 / (1 - ratio)), Ops.ScalarLike(x, 0)), mask];
    }
}
