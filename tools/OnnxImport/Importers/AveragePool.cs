namespace Backprop.Onnx.Importers;

/// <summary>
/// ONNX AveragePool (https://onnx.ai/onnx/operators/onnx__AveragePool.html), 1-D and 2-D, count_include_pad; 3-D composed
/// from 2-D poolings (<see cref="Volumetric"/>).
/// </summary>
internal sealed class AveragePoolImporter : INodeImporter
{
    public string OpType => "AveragePool";

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        var kernel = (ctx.Ints("kernel_shape") ?? throw ctx.Error("kernel_shape is required.")).Select(v => (int)v).ToArray();
        var attrs = Helpers.Window(ctx, x.Shape, kernel, conv: false).With("count_include_pad", ctx.Int("count_include_pad", 0));
        return [x.Rank == 5 ? Volumetric.AveragePool(x, attrs, ctx) : Ops.Call("AveragePool", attrs, x)];
    }
}
