using Backprop.Onnx.Importers;

namespace Backprop.Onnx;

/// <summary>
/// Layer normalisation as exporters before opset 17 spell it — ReduceMean → Sub → Pow(·, 2) → ReduceMean → Add(ε) → Sqrt →
/// Div → Mul(γ) → Add(β) — run as one <see cref="Ops.LayerNorm"/> call (one pass per row instead of nine over the tensor).
/// Declines unless the exponent is 2, ε a scalar, and both means reduce the same trailing axes with keepdims. Also runs
/// while gradients are recorded (the op's own rules, one-pass first-order backward), unless ε or the exponent would get a
/// gradient.
/// </summary>
internal sealed class LayerNormChain : FusedChain
{
    private LayerNormChain(int[] steps) : base(steps) { }

    public override bool WhileRecording => true;

    // Positions in Steps.
    private const int Mean = 0, Power = 2, Variance = 3, Epsilon = 4, Scale = 7, Shift = 8;

    public static IEnumerable<FusedChain> Find(Wiring w)
    {
        var steps = w.Steps;
        for (var mean = 0; mean < steps.Count; mean++)
        {
            if (steps[mean].Importer is not ReduceMeanImporter || !Wiring.OneOutput(steps[mean].Node) || steps[mean].Node.Input.Count == 0) continue;
            var x = steps[mean].Node.Input[0];
            var sub = w.Next<SubImporter>(mean);
            if (sub < 0 || steps[sub].Node.Input[0] != x || steps[sub].Node.Input[1] != steps[mean].Node.Output[0]) continue;
            var centered = steps[sub].Node.Output[0];
            var readers = w.Readers(centered);
            if (readers.Count != 2) continue;
            var pow = readers.FirstOrDefault(r => steps[r].Importer is PowImporter && w.InputIndex(r, centered) == 0, -1);
            var div = readers.FirstOrDefault(r => steps[r].Importer is DivImporter && w.InputIndex(r, centered) == 0, -1);
            if (pow < 0 || div < 0) continue;
            var variance = w.Next<ReduceMeanImporter>(pow);
            var eps = w.Next<AddImporter>(variance);
            var sqrt = w.Next<SqrtImporter>(eps);
            if (sqrt < 0 || w.Next<DivImporter>(sqrt) != div || w.InputIndex(div, steps[sqrt].Node.Output[0]) != 1) continue;
            var scale = w.Next<MulImporter>(div);
            var shift = w.Next<AddImporter>(scale);
            if (shift < 0) continue;
            yield return new LayerNormChain([mean, sub, pow, variance, eps, sqrt, div, scale, shift]);
        }
    }

    /// <summary>The input of the node at <paramref name="position"/> that is not the previous node's output.</summary>
    private Tensor? Other(IReadOnlyList<PlanStep> steps, Dictionary<string, Tensor> env, int position) =>
        Other(steps, env, Steps[position], steps[Steps[position - 1]].Node.Output[0]);

    public override bool TryRun(IReadOnlyList<PlanStep> steps, Dictionary<string, Tensor> env, Func<int, NodeContext> context)
    {
        if (Read(steps, env, Steps[Mean], 0) is not { } x || !x.DType.IsFloatingPoint() || x.Rank == 0) return false;
        var (gamma, beta, eps) = (Other(steps, env, Scale), Other(steps, env, Shift), Other(steps, env, Epsilon));
        if (gamma is null || beta is null || eps is not { Size: 1 } || !eps.DType.IsFloatingPoint() || eps.Rank > x.Rank) return false;
        if (Read(steps, env, Steps[Power], 1) is not { } exponent || exponent.Rank > x.Rank || !IsScalar(exponent, 2)) return false;
        if (Differentiated(eps) || Differentiated(exponent)) return false;
        var reduce = (ReduceImporter)steps[Steps[Mean]].Importer;
        var first = reduce.Axes(context(Steps[Mean]), x.Rank);
        var second = ((ReduceImporter)steps[Steps[Variance]].Importer).Axes(context(Steps[Variance]), x.Rank);
        if (first is not { KeepDims: true } a || second is not { KeepDims: true } b) return false;
        var axes = a.Axes.Order().ToArray();
        if (!axes.SequenceEqual(b.Axes.Order()) || axes.Length == 0 || axes[^1] != x.Rank - 1 || axes.Select((v, i) => v - i).Distinct().Count() != 1) return false;
        env[steps[Steps[^1]].Node.Output[0]] = Ops.LayerNorm(x, gamma, beta, axes[0], eps.GetAsDouble(0));
        return true;
    }
}
