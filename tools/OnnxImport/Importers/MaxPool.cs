namespace Backprop.Onnx.Importers;

/// <summary>
/// ONNX MaxPool (https://onnx.ai/onnx/operators/onnx__MaxPool.html), 1-D and 2-D; Indices output as flat indices into X.
/// storage_order = 1 gives column-major indices; 3-D (without Indices) composed from 2-D poolings (<see cref="Volumetric"/>).
/// Integer inputs (uint8 and the like) are pooled in float64, exactly.
/// </summary>
internal sealed class MaxPoolImporter : INodeImporter
{
    public string OpType => "MaxPool";

    /// <summary>Row-major flat indices into X [N, C, H, W] as column-major ones (storage_order = 1): h + w·H within each plane.</summary>
    private static Tensor ColumnMajor(Tensor indices, Shape x)
    {
        var (h, w) = ((long)x.Dims[2], (long)x.Dims[3]);
        var flat = indices.ToInt64Array();
        for (var i = 0; i < flat.Length; i++)
        {
            var (plane, within) = (flat[i] / (h * w), flat[i] % (h * w));
            flat[i] = plane * h * w + within % w * h + within / w;
        }
        return new Tensor(flat, indices.Shape);
    }

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        var kernel = (ctx.Ints("kernel_shape") ?? throw ctx.Error("kernel_shape is required.")).Select(v => (int)v).ToArray();
        var columnMajor = ctx.Int("storage_order", 0) != 0;
        if (columnMajor && x.Rank != 4) throw ctx.Error("storage_order=1 is supported for 2-D pooling only.");
        var attributes = Helpers.Window(ctx, x.Shape, kernel, conv: false);
        var wantsIndices = ctx.Node.Output.Count >= 2 && ctx.Node.Output[1].Length > 0;
        if (x.Rank == 5)
        {
            if (wantsIndices) throw ctx.Error("the Indices output of a 3-D MaxPool is not supported.");
            return [ThroughFloat64.Apply(x, v => Volumetric.MaxPool(v, attributes, ctx), ctx)];
        }
        // Without an Indices output the values-only op serves (a values-only kernel when nothing is recorded).
        if (!wantsIndices)
            return [ThroughFloat64.Apply(x, v => TensorRuntime.Current.Invoke(Ops.BackpropDomain, "MaxPoolValues", [v], attributes)[0], ctx)];
        var outputs = Ops.CallMulti("", "MaxPool", attributes, ThroughFloat64.Widen(x, ctx));
        return [ThroughFloat64.Narrow(outputs[0], x.DType), columnMajor ? ColumnMajor(outputs[1], x.Shape) : outputs[1]];
    }
}
