namespace Backprop.Onnx.Importers;

/// <summary>ONNX MaxPool (https://onnx.ai/onnx/operators/onnx__MaxPool.html), 1-D and 2-D; Indices output as flat indices into X.</summary>
internal sealed class MaxPoolImporter : INodeImporter
{
    public string OpType => "MaxPool";

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        var kernel = (ctx.Ints("kernel_shape") ?? throw ctx.Error("kernel_shape is required.")).Select(v => (int)v).ToArray();
        if (ctx.Int("storage_order", 0) != 0) throw ctx.Error("storage_order=1 is not supported.");
        var attributes = Helpers.Window(ctx, x.Shape, kernel, conv: false);
        // Without an Indices output the values-only op serves (a values-only kernel when nothing is recorded).
        if (ctx.Node.Output.Count < 2 || ctx.Node.Output[1].Length == 0)
            return [TensorRuntime.Current.Invoke(Ops.BackpropDomain, "MaxPoolValues", [x], attributes)[0]];
        var outputs = Ops.CallMulti("", "MaxPool", attributes, x);
        return [outputs[0], outputs[1]];
    }
}
