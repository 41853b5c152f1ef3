namespace Backprop.Onnx.Importers;

/// <summary>ONNX ConstantOfShape (https://onnx.ai/onnx/operators/onnx__ConstantOfShape.html).</summary>
internal sealed class ConstantOfShapeImporter : INodeImporter
{
    public string OpType => "ConstantOfShape";

    public Tensor?[] Run(NodeContext ctx)
    {
        var shape = new Shape(ctx.Longs(0).Select(v => checked((int)v)).ToArray());
        var value = ctx.TensorAttribute("value") is { } t ? TensorConverter.ToTensor(t) : Tensor.Scalar(0, DType.Float32);
        return [Tensor.Full(shape, value.Size == 0 ? 0 : value.GetAsDouble(0), value.DType)];
    }
}
