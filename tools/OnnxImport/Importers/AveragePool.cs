namespace Backprop.Onnx.Importers;

/// <summary>ONNX AveragePool (https://onnx.ai/onnx/operators/onnx__AveragePool.html), 1-D and 2-D, count_include_pad.</summary>
internal sealed class AveragePoolImporter : INodeImporter
{
    public string OpType => "AveragePool";

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        var kernel = (ctx.Ints("kernel_shape") ?? throw ctx.Error("kernel_shape is required.")).Select(v => (int)v).ToArray();
        var attrs = Helpers.Window(ctx, x.Shape, kernel, conv: false).With("count_include_pad", ctx.Int("count_include_pad", 0));
        return [Ops.Call("AveragePool", attrs, x)];
    }
}
