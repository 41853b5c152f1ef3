namespace Backprop.Onnx.Importers;

/// <summary>ONNX Tile (https://onnx.ai/onnx/operators/onnx__Tile.html).</summary>
internal sealed class TileImporter : INodeImporter
{
    public string OpType => "Tile";

    public Tensor?[] Run(NodeContext ctx)
    {
        // Tile = unsqueeze a repeat axis before every axis, expand it, and merge: [r0·d0, r1·d1, …].
        var x = ctx.Input(0);
        var repeats = ctx.Longs(1).Select(v => (int)v).ToArray();
        if (repeats.Length != x.Rank) throw ctx.Error($"repeats has {repeats.Length} entries for a rank-{x.Rank} input.");
        var interleaved = new int[2 * x.Rank];
        var expanded = new int[2 * x.Rank];
        for (var i = 0; i < x.Rank; i++)
        {
            interleaved[2 * i] = 1;
            interleaved[2 * i + 1] = x.Shape.Dims[i];
            expanded[2 * i] = repeats[i];
            expanded[2 * i + 1] = x.Shape.Dims[i];
        }
        var y = Ops.Expand(Ops.Reshape(x, interleaved), new Shape(expanded));
        return [Ops.Reshape(y, x.Shape.Dims.ToArray().Select((d, i) => d * repeats[i]).ToArray())];
    }
}
