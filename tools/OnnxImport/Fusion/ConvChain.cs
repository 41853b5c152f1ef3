using Backprop.Onnx.Importers;

namespace Backprop.Onnx;

/// <summary>
/// Conv → BatchNormalization [→ Add(·, R)] [→ Relu], run as one <see cref="Ops.ConvAffine"/> call: the normalisation, the
/// residual add and the ReLU happen while the convolution copies its output out. Declines a residual that broadcasts and
/// mixed dtypes. While training on batch statistics, with gradients recorded, a chain ending in a Relu runs as the
/// convolution followed by one BatchNormAddRelu (normalisation, residual and ReLU in one pass, with its own rules); with
/// running statistics and gradients recorded the nodes run one by one. BACKPROP_FUSE_TRAINING=0 turns the training form off.
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

    public override bool WhileRecording => true;

    public override bool TryRun(IReadOnlyList<PlanStep> steps, Dictionary<string, Tensor> env, Func<int, NodeContext> context)
    {
        var norm = context(Steps[1]);
        if (norm.BatchStatistics) return Relu && Environment.GetEnvironmentVariable("BACKPROP_FUSE_TRAINING") != "0" && TryTraining(steps, env, context, norm);
        if (Backprop.Runtime.GradMode.IsEnabled) return false; // ConvAffine has no rules: recorded inference runs node by node
        var (x, weight, bias, attributes) = ConvImporter.Operands(context(Steps[0]));
        if (x.Rank > 4) return false; // 3-D: composed from 2-D convolutions (Volumetric), not fused
        var (scale, shift) = BatchNormalizationImporter.InferenceAffine(norm);
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

    /// <summary>
    /// Training on batch statistics: the convolution as its node would run it, then normalisation, residual and ReLU as one
    /// BatchNormAddRelu, the running statistics updated as <see cref="BatchNormalizationImporter"/> updates them. Declines
    /// (before computing anything when it can tell) mixed dtypes and a residual that would broadcast.
    /// </summary>
    private bool TryTraining(IReadOnlyList<PlanStep> steps, Dictionary<string, Tensor> env, Func<int, NodeContext> context, NodeContext norm)
    {
        var convolution = context(Steps[0]);
        var (x, weight) = (convolution.Input(0), convolution.Input(1));
        var (scale, bias) = (norm.Input(1), norm.Input(2));
        if (x.Rank is < 3 or > 4 || weight.Rank != x.Rank || scale.Size != weight.Shape[0] || bias.Size != weight.Shape[0]
            || scale.DType != x.DType || bias.DType != x.DType || weight.DType != x.DType) return false;
        Tensor? residual = null;
        if (ResidualInput >= 0)
        {
            residual = Read(steps, env, Steps[2], ResidualInput);
            if (residual is null || residual.DType != x.DType || residual.Rank != x.Rank || residual.Shape[0] != x.Shape[0] || residual.Shape[1] != weight.Shape[0]) return false;
        }
        var y = steps[Steps[0]].Importer.Run(convolution)[0]!;
        if (residual is not null && residual.Shape != y.Shape) return false; // Add would broadcast it: the nodes run one by one
        var eps = norm.Float("epsilon", 1e-5f);
        var (gamma, beta) = (Ops.Reshape(scale, scale.Size), Ops.Reshape(bias, bias.Size));
        var attributes = OpAttributes.Of(("epsilon", (double)eps));
        var r = residual is null
            ? Ops.CallMulti(Ops.BackpropDomain, "BatchNormAddRelu", attributes, y, gamma, beta)
            : Ops.CallMulti(Ops.BackpropDomain, "BatchNormAddRelu", attributes, y, gamma, beta, residual);
        BatchNormalizationImporter.UpdateRunning(norm, y, r[1], r[2], eps, norm.Input(3), norm.Input(4));
        env[steps[Steps[^1]].Node.Output[0]] = r[0];
        return true;
    }
}
