namespace Backprop.Onnx.Importers;

/// <summary>
/// ONNX GatherElements (https://onnx.ai/onnx/operators/onnx__GatherElements.html): out[i][j][k] = data[index][j][k]
/// along axis. The flat source positions are computed here and the values taken with Ops.Core's differentiable
/// IndexGather, whose adjoint scatter-adds gradients back.
/// </summary>
internal sealed class GatherElementsImporter : INodeImporter
{
    public string OpType => "GatherElements";

    public int SinceVersion => 11;

    public Tensor?[] Run(NodeContext ctx)
    {
        var (data, indices) = (ctx.Input(0), ctx.Input(1));
        if (indices.Rank != data.Rank) throw ctx.Error($"indices {indices.Shape} and data {data.Shape} must have the same rank.");
        var axis = Shape.NormalizeAxis((int)ctx.Int("axis", 0), data.Rank);
        var idx = indices.ToInt64Array();
        var dataStrides = data.Shape.Strides();
        var shape = indices.Shape.ToArray();
        var flat = new long[idx.Length];
        var position = new int[shape.Length];
        for (var i = 0; i < idx.Length; i++)
        {
            var at = idx[i] < 0 ? idx[i] + data.Shape[axis] : idx[i];
            if (at < 0 || at >= data.Shape[axis]) throw ctx.Error($"index {idx[i]} is out of range for axis {axis} of size {data.Shape[axis]}.");
            long offset = 0;
            for (var d = 0; d < shape.Length; d++) offset += (d == axis ? at : position[d]) * dataStrides[d];
            flat[i] = offset;
            for (var d = shape.Length - 1; d >= 0; d--)
            {
                if (++position[d] < shape[d]) break;
                position[d] = 0;
            }
        }
        return [Ops.CallMulti(Ops.BackpropDomain, "IndexGather", OpAttributes.Empty, data, new Tensor(flat, indices.Shape))[0]];
    }
}
