namespace Backprop.Onnx.Importers;

/// <summary>ONNX Concat (https://onnx.ai/onnx/operators/onnx__Concat.html); empty inputs contribute nothing.</summary>
internal sealed class ConcatImporter : INodeImporter
{
    public string OpType => "Concat";

    public Tensor?[] Run(NodeContext ctx)
    {
        var inputs = ctx.Inputs.Where(t => t is not null && t.Size > 0 || t is not null && t.Rank > 0 && ctx.Inputs.All(u => u is null || u.Size == 0)).Select(t => t!).ToArray();
        if (inputs.Length == 0) inputs = ctx.Inputs.Where(t => t is not null).Select(t => t!).ToArray();
        return [Ops.Concat((int)ctx.Int("axis"), inputs)];
    }
}
