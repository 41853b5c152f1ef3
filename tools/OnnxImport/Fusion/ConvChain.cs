using Backprop.Onnx.Importers;

namespace Backprop.Onnx;

/// <summary>
/// Conv → BatchNormalization [→ Add(·, R)] [→ Relu], run as one <see cref="Ops.ConvAffine"/> call: the normalisation, the
/// residual add and the ReLU happen while the convolution copies its output out. Declines a residual that broadcasts and
/// mixed dtypes.
/// </summary>
internal sealed class ConvChain : FusedChain
{
    private ConvChain(int[] steps, int residualInput, bool relu) : base(steps) => (ResidualInput, Relu) = (residualInput, relu);

    /// <summary>Which input of the Add node is the residual, or −1 without an Add.</summary>
    public int ResidualInput { get; }

    /// <summary>Whether the chain ends in a Relu.</summary>
    public bool Relu { get; }

    public static IEnumerable<FusedChain> Find(Wiring w)
    {
        var steps = w.Steps;
        // Conv → BatchNormalization pairs first, by the normalisation's output.
        var pairs = new Dictionary<string, (int Conv, int Norm)>(StringComparer.Ordinal);
        for (var c = 0; c < steps.Count; c++)
        {
            if (steps[c].Importer is not ConvImporter) continue;
            var bn = w.Next<BatchNormalizationImporter>(c);
            if (bn < 0 || w.InputIndex(bn, steps[c].Node.Output[0]) != 0 || steps[bn].Node.Attribute.Any(a => a.Name == "training_mode" && a.I != 0)) continue;
            pairs[steps[bn].Node.Output[0]] = (c, bn);
        }
        foreach (var (normOutput, (c, bn)) in pairs)
        {
            var members = new List<int> { c, bn };
            var (residual, relu) = (-1, false);
            var last = bn;
            var add = w.Next<AddImporter>(bn);
            if (add >= 0 && steps[add].Node.Input.Count == 2)
            {
                residual = steps[add].Node.Input[0] == normOutput ? 1 : 0;
                // When both addends come from pairs (a block whose shortcut is a convolution too), the pair that runs last
                // takes the Add: the other's output is then ready as its residual.
                if (pairs.TryGetValue(steps[add].Node.Input[residual], out var other) && other.Norm > bn)
                {
                    yield return new ConvChain([c, bn], -1, false);
                    continue;
                }
                members.Add(last = add);
            }
            var reluStep = w.Next<ReluImporter>(last);
            if (reluStep >= 0)
            {
                relu = true;
                members.Add(reluStep);
            }
            yield return new ConvChain([.. members], residual, relu);
        }
    }

    public override bool TryRun(IReadOnlyList<PlanStep> steps, Dictionary<string, Tensor> env, Func<int, NodeContext> context)
    {
        var (x, weight, bias, attributes) = ConvImporter.Operands(context(Steps[0]));
        if (x.Rank > 4) return false; // 3-D: composed from 2-D convolutions (Volumetric), not fused
        var (scale, shift) = BatchNormalizationImporter.InferenceAffine(context(Steps[1]));
        Tensor? residual = null;
        if (ResidualInput >= 0)
        {
            residual = Read(steps, env, Steps[2], ResidualInput);
            if (residual is null || residual.DType != x.DType || residual.Rank != x.Rank || residual.Shape[0] != x.Shape[0] || residual.Shape[1] != weight.Shape[0]) return false;
        }
        if (scale.DType != x.DType || shift.DType != x.DType || weight.DType != x.DType || bias is { } b0 && b0.DType != x.DType) return false;
        if (bias is { } b) shift = shift + Ops.Reshape(b, b.Size) * scale;
        Tensor y;
        try
        {
            y = Ops.ConvAffine(x, weight, scale, shift, residual, Relu, attributes);
        }
        catch (ShapeException) when (residual is not null)
        {
            return false; // the residual's spatial size differs: Add broadcasts it, which the fused op does not
        }
        env[steps[Steps[^1]].Node.Output[0]] = y;
        return true;
    }
}
