namespace Backprop.Onnx.Importers;

/// <summary>ONNX ArgMax (https://onnx.ai/onnx/operators/onnx__ArgMax.html): axis, keepdims, select_last_index.</summary>
internal sealed class ArgMaxImporter : INodeImporter
{
    public string OpType => "ArgMax";

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        var axis = Shape.NormalizeAxis((int)ctx.Int("axis", 0), x.Rank);
        var keep = ctx.Int("keepdims", 1) != 0;
        var last = ctx.Int("select_last_index", 0) != 0;
        var values = x.ToDoubleArray();
        var dims = x.Shape.ToArray();
        var n = dims[axis];
        var inner = dims[(axis + 1)..].Aggregate(1, (a, b) => a * b);
        var outer = x.Size / Math.Max(1, n * inner);
        var result = new long[outer * inner];
        for (var o = 0; o < outer; o++)
        for (var i = 0; i < inner; i++)
        {
            var best = 0;
            for (var k = 1; k < n; k++)
            {
                var v = values[(o * n + k) * inner + i];
                var b = values[(o * n + best) * inner + i];
                if (v > b || (last && v == b)) best = k;
            }
            result[o * inner + i] = best;
        }
        dims[axis] = 1;
        var shape = keep ? dims : dims.Where((_, i) => i != axis).ToArray();
        return [new Tensor(result, new Shape(shape))];
    }
}
