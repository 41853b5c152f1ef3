namespace Backprop.Onnx.Importers;

/// <summary>ONNX Constant (https://onnx.ai/onnx/operators/onnx__Constant.html).</summary>
internal sealed class ConstantImporter : INodeImporter
{
    public string OpType => "Constant";

    public Tensor?[] Run(NodeContext ctx)
    {
        if (ctx.TensorAttribute("value") is { } t) return [TensorConverter.ToTensor(t)];
        if (ctx.Has("value_float")) return [Tensor.Scalar(ctx.Float("value_float", 0), DType.Float32)];
        if (ctx.Floats("value_floats") is { } fs) return [Tensor.FromArray(fs)];
        if (ctx.Has("value_int")) return [new Tensor(new[] { ctx.Int("value_int") }, Shape.Scalar)];
        if (ctx.Ints("value_ints") is { } ints) return [Tensor.FromArray(ints)];
        throw ctx.Error("has no supported value attribute (value, value_float(s), value_int(s)).");
    }
}
