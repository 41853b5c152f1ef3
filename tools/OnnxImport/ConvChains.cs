using Backprop.Onnx.Importers;
using Backprop.Onnx.Proto;

namespace Backprop.Onnx;

/// <summary>
/// Conv → BatchNormalization [→ Add(·, R)] [→ Relu] chains of a plan that run as one <see cref="Ops.ConvAffine"/> call
/// when nothing is recorded or observed (no gradients, no hooks, inference statistics): the normalisation, the residual
/// add and the ReLU happen while the convolution copies its output out, instead of three more passes over fresh
/// memory. Only chains whose inner values have a single reader and are not graph outputs qualify; the chain runs at
/// the position of its last node (every input of the chain exists by then), and falls back to its nodes one by one
/// when the fused op does not apply (a residual that broadcasts, mixed dtypes).
/// </summary>
internal sealed class ConvChain
{
    private ConvChain(int[] steps, int residualInput, bool relu) => (Steps, ResidualInput, Relu) = (steps, residualInput, relu);

    /// <summary>Plan step indices of the chain's nodes, in order (Conv first).</summary>
    public int[] Steps { get; }

    /// <summary>Which input of the Add node is the residual, or −1 without an Add.</summary>
    public int ResidualInput { get; }

    /// <summary>Whether the chain ends in a Relu.</summary>
    public bool Relu { get; }

    /// <summary>The chains among <paramref name="steps"/>, keyed by every member step.</summary>
    public static Dictionary<int, ConvChain> Find(IReadOnlyList<(NodeProto Node, INodeImporter Importer, int Opset)> steps, string[][] reads, IEnumerable<string> graphOutputs)
    {
        var readers = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < steps.Count; i++)
        {
            foreach (var name in reads[i].Where(n => n.Length > 0).Distinct())
            {
                if (!readers.TryGetValue(name, out var list)) readers[name] = list = [];
                list.Add(i);
            }
        }
        var outputs = new HashSet<string>(graphOutputs, StringComparer.Ordinal);
        // The one step reading value 'name' (which reads it once), or −1.
        int SoleReader(string name) =>
            !outputs.Contains(name) && readers.TryGetValue(name, out var r) && r.Count == 1 && steps[r[0]].Node.Input.Count(i => i == name) == 1 ? r[0] : -1;
        static bool OneOutput(NodeProto n) => n.Output.Count >= 1 && n.Output[0].Length > 0 && n.Output.Skip(1).All(o => o.Length == 0);

        // Conv → BatchNormalization pairs first, by the normalisation's output.
        var pairs = new Dictionary<string, (int Conv, int Norm)>(StringComparer.Ordinal);
        for (var c = 0; c < steps.Count; c++)
        {
            if (steps[c].Importer is not ConvImporter || !OneOutput(steps[c].Node)) continue;
            var bn = SoleReader(steps[c].Node.Output[0]);
            if (bn < 0 || steps[bn].Importer is not BatchNormalizationImporter || !OneOutput(steps[bn].Node) || steps[bn].Node.Input.IndexOf(steps[c].Node.Output[0]) != 0
                || steps[bn].Node.Attribute.Any(a => a.Name == "training_mode" && a.I != 0)) continue;
            pairs[steps[bn].Node.Output[0]] = (c, bn);
        }
        var chains = new Dictionary<int, ConvChain>();
        foreach (var (normOutput, (c, bn)) in pairs)
        {
            var members = new List<int> { c, bn };
            var (residual, relu) = (-1, false);
            var next = SoleReader(normOutput);
            if (next >= 0 && steps[next].Importer is AddImporter && steps[next].Node.Input.Count == 2 && OneOutput(steps[next].Node))
            {
                residual = steps[next].Node.Input[0] == normOutput ? 1 : 0;
                // When both addends come from pairs (a block whose shortcut is a convolution too), the pair that runs last
                // takes the Add: the other's output is then ready as its residual.
                if (pairs.TryGetValue(steps[next].Node.Input[residual], out var other) && other.Norm > bn)
                {
                    chains[c] = chains[bn] = new ConvChain([c, bn], -1, false);
                    continue;
                }
                members.Add(next);
                next = SoleReader(steps[next].Node.Output[0]);
            }
            if (next >= 0 && steps[next].Importer is ReluImporter && OneOutput(steps[next].Node))
            {
                relu = true;
                members.Add(next);
            }
            var chain = new ConvChain([.. members], residual, relu);
            foreach (var m in members) chains[m] = chain;
        }
        return chains;
    }

    /// <summary>
    /// Computes the chain's last output from <paramref name="env"/> with one fused op and stores it; false (nothing stored)
    /// when the fused op does not apply, so the caller runs the nodes one by one.
    /// </summary>
    public bool TryRun(IReadOnlyList<(NodeProto Node, INodeImporter Importer, int Opset)> steps, Dictionary<string, Tensor> env, Func<int, NodeContext> context)
    {
        var conv = context(Steps[0]);
        var (x, w, bias, attributes) = ConvImporter.Operands(conv);
        var (scale, shift) = BatchNormalizationImporter.InferenceAffine(context(Steps[1]));
        Tensor? residual = null;
        if (ResidualInput >= 0)
        {
            var add = steps[Steps[2]].Node;
            residual = env.GetValueOrDefault(add.Input[ResidualInput]);
            if (residual is null || residual.DType != x.DType || residual.Rank != x.Rank || residual.Shape[0] != x.Shape[0] || residual.Shape[1] != w.Shape[0]) return false;
        }
        if (scale.DType != x.DType || shift.DType != x.DType || w.DType != x.DType || bias is { } b0 && b0.DType != x.DType) return false;
        if (bias is { } b) shift = shift + Ops.Reshape(b, b.Size) * scale;
        Tensor y;
        try
        {
            y = Ops.ConvAffine(x, w, scale, shift, residual, Relu, attributes);
        }
        catch (ShapeException) when (residual is not null)
        {
            return false; // the residual's spatial size differs: Add broadcasts it, which the fused op does not
        }
        env[steps[Steps[^1]].Node.Output[0]] = y;
        return true;
    }
}
