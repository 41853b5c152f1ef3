namespace Backprop.Onnx.Importers;

/// <summary>
/// ONNX Resize (https://onnx.ai/onnx/operators/onnx__Resize.html), opset 11+: modes nearest and linear (multilinear over
/// every resized axis), coordinate_transformation_mode half_pixel | pytorch_half_pixel | align_corners | asymmetric |
/// tf_half_pixel_for_nn, nearest_mode round_prefer_floor | round_prefer_ceil | floor | ceil; output from sizes or scales.
/// Written as weighted gathers (Ops.Core's IndexGather), so it is differentiable in the input.
/// </summary>
internal sealed class ResizeImporter : INodeImporter
{
    public string OpType => "Resize";

    public int SinceVersion => 11;

    public string? Unsupported(Backprop.Onnx.Proto.NodeProto node)
    {
        string Get(string name, string fallback) => node.Attribute.FirstOrDefault(a => a.Name == name)?.S.ToStringUtf8() is { Length: > 0 } v ? v : fallback;
        var mode = Get("mode", "nearest");
        if (mode is not ("nearest" or "linear")) return $"mode '{mode}' is not supported (nearest, linear)";
        if (node.Attribute.Any(a => a.Name == "antialias" && a.I != 0)) return "antialias=1 is not supported";
        var transform = Get("coordinate_transformation_mode", "half_pixel");
        if (transform is not ("half_pixel" or "pytorch_half_pixel" or "align_corners" or "asymmetric" or "tf_half_pixel_for_nn"))
            return $"coordinate_transformation_mode '{transform}' is not supported";
        var policy = Get("keep_aspect_ratio_policy", "stretch");
        return policy == "stretch" ? null : $"keep_aspect_ratio_policy '{policy}' is not supported";
    }

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        var rank = x.Rank;
        var mode = ctx.String("mode", "nearest");
        if (mode is not ("nearest" or "linear")) throw ctx.Error($"mode '{mode}' is not supported (nearest, linear).");
        if (ctx.Int("antialias", 0) != 0) throw ctx.Error("antialias=1 is not supported.");
        var transform = ctx.String("coordinate_transformation_mode", "half_pixel");
        var nearestMode = ctx.String("nearest_mode", "round_prefer_floor");
        if (ctx.String("keep_aspect_ratio_policy", "stretch") != "stretch") throw ctx.Error("keep_aspect_ratio_policy other than stretch is not supported.");
        // axes (opset 18) lists the axes that scales/sizes refer to; the others keep their size.
        var axes = ctx.Ints("axes") is { } a ? Helpers.Axes(a, rank) : Enumerable.Range(0, rank).ToArray();
        var outSizes = x.Shape.ToArray();
        var scales = Enumerable.Repeat(1.0, rank).ToArray();
        var lengths = x.Shape.ToArray().Select(v => (double)v).ToArray(); // ONNX's "length_resized", unfloored when from scales
        if (ctx.Optional(3) is { Size: > 0 } sizes)
        {
            var s = sizes.ToInt64Array();
            if (s.Length != axes.Length) throw ctx.Error($"sizes has {s.Length} entries for {axes.Length} axes.");
            for (var i = 0; i < axes.Length; i++) { var d = axes[i]; outSizes[d] = (int)s[i]; scales[d] = (double)s[i] / x.Shape[d]; lengths[d] = s[i]; }
        }
        else if (ctx.Optional(2) is { Size: > 0 } scaleInput)
        {
            var s = scaleInput.ToDoubleArray();
            if (s.Length != axes.Length) throw ctx.Error($"scales has {s.Length} entries for {axes.Length} axes.");
            for (var i = 0; i < axes.Length; i++) { var d = axes[i]; scales[d] = s[i]; outSizes[d] = (int)Math.Floor(x.Shape[d] * s[i]); lengths[d] = x.Shape[d] * s[i]; }
        }
        else throw ctx.Error("needs scales or sizes.");

        // Per axis: for each output coordinate, the source positions and their weights.
        var taps = new List<(int Index, double Weight)[]>[rank];
        for (var d = 0; d < rank; d++)
        {
            var n = x.Shape[d];
            taps[d] = [];
            for (var o = 0; o < outSizes[d]; o++)
            {
                if (outSizes[d] == n && scales[d] == 1) { taps[d].Add([(o, 1.0)]); continue; }
                var src = Source(o, scales[d], n, lengths[d], transform, ctx);
                if (mode == "nearest")
                {
                    var i = nearestMode switch
                    {
                        "floor" => Math.Floor(src),
                        "ceil" => Math.Ceiling(src),
                        "round_prefer_ceil" => Math.Floor(src + 0.5),
                        _ => Math.Ceiling(src - 0.5),
                    };
                    taps[d].Add([((int)Math.Clamp(i, 0, n - 1), 1.0)]);
                }
                else
                {
                    var c = Math.Clamp(src, 0, n - 1);
                    var lo = (int)Math.Floor(c);
                    var hi = Math.Min(lo + 1, n - 1);
                    var w = c - lo;
                    taps[d].Add(hi == lo ? [(lo, 1.0)] : [(lo, 1 - w), (hi, w)]);
                }
            }
        }
        return [Combine(x, taps, outSizes)];
    }

    private static double Source(int o, double scale, int inSize, double outLength, string transform, NodeContext ctx) => transform switch
    {
        "half_pixel" => (o + 0.5) / scale - 0.5,
        "pytorch_half_pixel" => outLength > 1 ? (o + 0.5) / scale - 0.5 : 0,
        "align_corners" => outLength > 1 ? o * (inSize - 1.0) / (outLength - 1.0) : 0,
        "asymmetric" => o / scale,
        "tf_half_pixel_for_nn" => (o + 0.5) / scale,
        _ => throw ctx.Error($"coordinate_transformation_mode '{transform}' is not supported."),
    };

    /// <summary>Σ over tap combinations of weight · IndexGather(x, flat positions).</summary>
    private static Tensor Combine(Tensor x, List<(int Index, double Weight)[]>[] taps, int[] outSizes)
    {
        var rank = x.Rank;
        var strides = x.Shape.Strides();
        var outShape = new Shape(outSizes);
        var maxTaps = taps.Select(t => t.Max(a => a.Length)).ToArray();
        var combos = maxTaps.Aggregate(1, (a, b) => a * b);
        Tensor? result = null;
        for (var combo = 0; combo < combos; combo++)
        {
            var choice = new int[rank];
            var rest = combo;
            for (var d = rank - 1; d >= 0; d--) { choice[d] = rest % maxTaps[d]; rest /= maxTaps[d]; }
            var index = new long[outShape.Size];
            var weight = new double[outShape.Size];
            var position = new int[rank];
            for (var i = 0; i < index.Length; i++)
            {
                long flat = 0;
                var w = 1.0;
                for (var d = 0; d < rank; d++)
                {
                    var options = taps[d][position[d]];
                    if (choice[d] < options.Length) { flat += (long)options[choice[d]].Index * strides[d]; w *= options[choice[d]].Weight; }
                    else { flat += (long)options[0].Index * strides[d]; w = 0; }
                }
                index[i] = flat;
                weight[i] = w;
                for (var d = rank - 1; d >= 0; d--)
                {
                    if (++position[d] < outSizes[d]) break;
                    position[d] = 0;
                }
            }
            var gathered = Ops.CallMulti(Ops.BackpropDomain, "IndexGather", OpAttributes.Empty, x, new Tensor(index, outShape))[0];
            var term = combos == 1 ? gathered : gathered * Tensor.FromDoubles(weight, outShape, x.DType);
            result = result is null ? term : result + term;
        }
        return result!;
    }
}
