namespace Backprop.Onnx.Importers;

/// <summary>
/// ONNX Conv (https://onnx.ai/onnx/operators/onnx__Conv.html), 1-D and 2-D: strides, pads, dilations, group, auto_pad;
/// 3-D composed from 2-D convolutions (<see cref="Volumetric"/>).
/// </summary>
internal sealed class ConvImporter : INodeImporter
{
    public string OpType => "Conv";

    public Tensor?[] Run(NodeContext ctx)
    {
        var (x, w, b, attrs) = Operands(ctx);
        if (x.Rank == 5) return [Volumetric.Conv(x, w, b, attrs, ctx)];
        return [b is not null ? Ops.Call("Conv", attrs, x, w, b) : Ops.Call("Conv", attrs, x, w)];
    }

    /// <summary>The node's input, weight, optional bias and its window as op attributes (auto_pad resolved).</summary>
    public static (Tensor X, Tensor W, Tensor? Bias, OpAttributes Attributes) Operands(NodeContext ctx)
    {
        var x = ctx.Input(0);
        var w = ctx.Input(1);
        var kernel = ctx.Ints("kernel_shape")?.Select(v => (int)v).ToArray() ?? w.Shape.Dims[2..].ToArray();
        return (x, w, ctx.Optional(2), Helpers.Window(ctx, x.Shape, kernel, conv: true));
    }
}
