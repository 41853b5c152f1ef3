namespace Backprop.Onnx.Importers;

/// <summary>
/// ONNX NegativeLogLikelihoodLoss (https://onnx.ai/onnx/operators/onnx__NegativeLogLikelihoodLoss.html), opset 12+:
/// input [N, C, d…], target [N, d…], optional class weights, ignore_index, reduction none|sum|mean (weighted mean).
/// Written as −Σ input · (one-hot(target) · weight), so it is differentiable in the input.
/// </summary>
internal sealed class NegativeLogLikelihoodLossImporter : INodeImporter
{
    public string OpType => "NegativeLogLikelihoodLoss";

    public int SinceVersion => 12;

    public Tensor?[] Run(NodeContext ctx) => [ClassLoss.Nll(ctx, ctx.Input(0), ctx.Input(1), ctx.Optional(2))];
}

/// <summary>Shared maths of the ONNX class-index losses.</summary>
internal static class ClassLoss
{
    public static Tensor Nll(NodeContext ctx, Tensor logp, Tensor target, Tensor? weight)
    {
        if (logp.Rank < 2) throw ctx.Error($"input must be [N, C, …], got {logp.Shape}.");
        var c = logp.Shape[1];
        var t = target.ToInt64Array();
        var ignore = ctx.Has("ignore_index") ? ctx.Int("ignore_index") : long.MinValue;
        var w = weight?.ToDoubleArray();
        if (w is not null && w.Length != c) throw ctx.Error($"weight has {w.Length} entries for {c} classes.");
        var inner = logp.Size / Math.Max(1, logp.Shape[0] * c);
        if (t.Length != logp.Shape[0] * inner) throw ctx.Error($"target {target.Shape} does not match input {logp.Shape} (expected [N, d…] without the class axis).");
        // mask[n, c, d] = weight[c] where target[n, d] == c (and not ignored).
        var mask = new double[logp.Size];
        var perSample = new double[t.Length];
        for (var i = 0; i < t.Length; i++)
        {
            if (t[i] == ignore) continue;
            if (t[i] < 0 || t[i] >= c) throw ctx.Error($"target {t[i]} at position {i} is outside the {c} classes.");
            var (n, d) = (i / inner, i % inner);
            var wi = w?[t[i]] ?? 1;
            mask[(n * c + t[i]) * inner + d] = wi;
            perSample[i] = wi;
        }
        var weighted = Ops.Neg(logp * Tensor.FromDoubles(mask, logp.Shape, logp.DType));
        var reduction = ctx.String("reduction", "mean");
        var perElement = Ops.ReduceSum(weighted, [1]);
        return reduction switch
        {
            "none" => perElement,
            "sum" => Ops.Sum(perElement),
            "mean" => Ops.Sum(perElement) / Math.Max(perSample.Sum(), double.Epsilon),
            _ => throw ctx.Error($"reduction '{reduction}' must be none, sum or mean."),
        };
    }
}
