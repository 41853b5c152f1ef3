using Backprop.Onnx.Importers;

namespace Backprop.Onnx;

/// <summary>
/// GELU as exporters before opset 20 spell it — Div(x, √2) → Erf → Add(1) → Mul(x, ·) → Mul(0.5) — run as one
/// <see cref="Ops.Gelu"/> call, also while gradients are recorded (Gelu's rules, with a one-kernel first-order backward in
/// float32). Declines unless the constants are √2, 1 and 0.5 as scalars that need no gradient.
/// </summary>
internal sealed class GeluChain : FusedChain
{
    private GeluChain(int[] steps) : base(steps) { }

    public override bool WhileRecording => true;

    public static IEnumerable<FusedChain> Find(Wiring w)
    {
        var steps = w.Steps;
        for (var div = 0; div < steps.Count; div++)
        {
            if (steps[div].Importer is not DivImporter || steps[div].Node.Input.Count != 2) continue;
            var x = steps[div].Node.Input[0];
            var erf = w.Next<ErfImporter>(div);
            var one = w.Next<AddImporter>(erf);
            var times = w.Next<MulImporter>(one);
            if (times < 0 || !steps[times].Node.Input.Contains(x)) continue;
            var half = w.Next<MulImporter>(times);
            if (half >= 0) yield return new GeluChain([div, erf, one, times, half]);
        }
    }

    public override bool TryRun(IReadOnlyList<PlanStep> steps, Dictionary<string, Tensor> env, Func<int, NodeContext> context)
    {
        if (Read(steps, env, Steps[0], 0) is not { } x || !x.DType.IsFloatingPoint()) return false;
        string Out(int position) => steps[Steps[position]].Node.Output[0];
        var constants = new[] { (Read(steps, env, Steps[0], 1), Math.Sqrt(2)), (Other(steps, env, Steps[2], Out(1)), 1.0), (Other(steps, env, Steps[4], Out(3)), 0.5) };
        if (constants.Any(c => c.Item1 is not { } t || t.Rank > x.Rank || !IsScalar(t, c.Item2) || Differentiated(t))) return false;
        env[Out(4)] = Ops.Gelu(x);
        return true;
    }
}
