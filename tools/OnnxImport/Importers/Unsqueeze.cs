namespace Backprop.Onnx.Importers;

/// <summary>ONNX Unsqueeze (https://onnx.ai/onnx/operators/onnx__Unsqueeze.html): attribute axes before opset 13, input axes from 13.</summary>
internal sealed class UnsqueezeImporter : INodeImporter
{
    public string OpType => "Unsqueeze";

    public Tensor?[] Run(NodeContext ctx)
    {
        // Axes are an attribute before opset 13 and an optional input from 13.
        var axes = ctx.Opset < 13 ? ctx.Ints("axes") : ctx.Optional(1)?.ToInt64Array();
        return [Ops.Unsqueeze(ctx.Input(0), (axes ?? []).Select(v => (int)v).ToArray())];
    }
}
