namespace Backprop.Onnx.Importers;

/// <summary>
/// ONNX Loop (https://onnx.ai/onnx/operators/onnx__Loop.html): runs the body while the iteration count is below the optional
/// trip count M and the condition holds, threading the loop-carried values through; scan outputs are stacked along a new
/// first axis. Every iteration is recorded, so gradients flow back through all of them (back-propagation through time).
/// Tensor values only (no sequence or optional types). A loop with neither M nor a condition input is refused, and one whose
/// condition and trip count would take it past <see cref="ImportLimits.MaxLoopIterations"/> iterations stops with an error naming
/// the node rather than hanging.
/// </summary>
internal sealed class LoopImporter : INodeImporter
{
    public string OpType => "Loop";

    public Tensor?[] Run(NodeContext ctx)
    {
        var tripCount = ctx.Optional(0) is { } m ? (m.Size == 1 ? m.ToInt64Array()[0] : throw ctx.Error($"M must hold one value, not {m.Shape}.")) : (long?)null;
        var condition = ctx.Optional(1) is { } c0 ? (c0.Size == 1 ? c0.GetAsDouble(0) != 0 : throw ctx.Error($"cond must hold one value, not {c0.Shape}.")) : (bool?)null;
        if (tripCount is null && condition is null) throw ctx.Error("has neither a trip count M nor a condition: it would never end.");
        // Exporters write while-loops as M = long.MaxValue plus a condition, so a large M alone is no error; running past the cap is.
        var cap = ctx.Limits.MaxLoopIterations;
        var carried = Enumerable.Range(2, Math.Max(0, ctx.Inputs.Length - 2)).Select(i => ctx.Input(i)).ToArray();
        var scanCount = ctx.Node.Output.Count - carried.Length;
        if (scanCount < 0) throw ctx.Error($"{carried.Length} loop-carried inputs but only {ctx.Node.Output.Count} outputs.");
        var scans = Enumerable.Range(0, scanCount).Select(_ => new List<Tensor>()).ToArray();
        var keepGoing = condition ?? true;
        for (long i = 0; keepGoing && (tripCount is not { } limit || i < limit); i++)
        {
            if (i >= cap)
                throw ctx.Error($"reached ImportLimits.MaxLoopIterations ({cap}) with its condition still true and trip count {tripCount?.ToString() ?? "none"}; raise the limit if the loop is meant to run longer.");
            var outputs = ctx.Subgraph("body", [Tensor.FromArray([i], []), Tensor.FromArray([keepGoing], []), .. carried]);
            if (outputs.Length != 1 + carried.Length + scanCount)
                throw ctx.Error($"the body returned {outputs.Length} outputs; 1 condition + {carried.Length} carried + {scanCount} scan outputs expected.");
            if (outputs[0].Size != 1) throw ctx.Error($"the body's condition output must hold one value, not {outputs[0].Shape}.");
            keepGoing = outputs[0].GetAsDouble(0) != 0;
            for (var k = 0; k < carried.Length; k++) carried[k] = outputs[1 + k];
            for (var k = 0; k < scanCount; k++) scans[k].Add(Ops.Unsqueeze(outputs[1 + carried.Length + k], 0));
        }
        var result = new Tensor?[ctx.Node.Output.Count];
        for (var k = 0; k < carried.Length; k++) result[k] = carried[k];
        for (var k = 0; k < scanCount; k++)
            result[carried.Length + k] = scans[k].Count == 0 ? Tensor.Zeros(new Shape(0)) : scans[k].Count == 1 ? scans[k][0] : Ops.Concat(0, [.. scans[k]]);
        return result;
    }
}
