using Backprop.Onnx.Proto;

namespace Backprop.Onnx;

/// <summary>
/// A run of plan steps that one fused op computes when nothing can observe the values inside it (no gradients recorded, no
/// hooks, inference statistics, no inner value asked for): fewer passes over memory than the nodes one by one. Finders
/// match only the graph's wiring; the chain checks constants, dtypes and shapes when it runs and declines (the nodes then
/// run one by one) when the fused op would not compute exactly what the nodes compute.
/// </summary>
internal abstract class FusedChain
{
    protected FusedChain(int[] steps) => Steps = steps;

    /// <summary>
    /// True when the fused op also stands in for the chain while gradients are recorded (no hooks watching): its own rules
    /// then give the chain's derivatives. The chain must decline when any of its constants requires a gradient.
    /// </summary>
    public virtual bool WhileRecording => false;

    /// <summary>Plan step indices of the chain's nodes; the last one produces the chain's result and runs last.</summary>
    public int[] Steps { get; }

    /// <summary>
    /// Computes the chain's result from <paramref name="env"/> and stores it under the last node's output; false (nothing
    /// stored) when the fused op does not apply.
    /// </summary>
    public abstract bool TryRun(IReadOnlyList<PlanStep> steps, Dictionary<string, Tensor> env, Func<int, NodeContext> context);

    /// <summary>The value a chain's node reads at <paramref name="input"/>, if the environment has it.</summary>
    protected static Tensor? Read(IReadOnlyList<PlanStep> steps, Dictionary<string, Tensor> env, int step, int input) =>
        input < steps[step].Node.Input.Count ? env.GetValueOrDefault(steps[step].Node.Input[input]) : null;

    /// <summary>The value the two-input node at <paramref name="step"/> reads besides <paramref name="own"/> (the chain's own value).</summary>
    protected static Tensor? Other(IReadOnlyList<PlanStep> steps, Dictionary<string, Tensor> env, int step, string own)
    {
        var node = steps[step].Node;
        return node.Input.Count == 2 ? env.GetValueOrDefault(node.Input[0] == own ? node.Input[1] : node.Input[0]) : null;
    }

    /// <summary>True when <paramref name="t"/> would receive a gradient if the chain ran node by node (so the fused op must not stand in).</summary>
    protected static bool Differentiated(Tensor t) => t.RequiresGrad && Backprop.Runtime.GradMode.IsEnabled;

    /// <summary>True when <paramref name="t"/> is a one-element floating tensor within a relative 1e-6 of <paramref name="value"/>.</summary>
    protected static bool IsScalar(Tensor? t, double value) =>
        t is { Size: 1 } && t.DType.IsFloatingPoint() && Math.Abs(t.GetAsDouble(0) - value) <= 1e-6 * Math.Max(1, Math.Abs(value));

    /// <summary>Every chain of every kind in the plan, keyed by each member step; a step joins at most one chain.</summary>
    public static Dictionary<int, FusedChain> FindAll(IReadOnlyList<PlanStep> steps, string[][] reads, IEnumerable<string> graphOutputs)
    {
        var wiring = new Wiring(steps, reads, graphOutputs);
        var chains = new Dictionary<int, FusedChain>();
        var found = ConvChain.Find(wiring).Concat(LayerNormChain.Find(wiring)).Concat(GeluChain.Find(wiring)).Concat(BiasMatMulChain.Find(wiring));
        foreach (var chain in found)
        {
            if (chain.Steps.Any(chains.ContainsKey) || chain.Steps[^1] != chain.Steps.Max() || !wiring.Private(chain.Steps)) continue;
            foreach (var s in chain.Steps) chains[s] = chain;
        }
        return chains;
    }
}

/// <summary>One step of a plan: the node, the importer bound to it and the opset of its domain.</summary>
internal readonly record struct PlanStep(NodeProto Node, INodeImporter Importer, int Opset);

/// <summary>Who reads which value in a plan, for the chain finders.</summary>
internal sealed class Wiring
{
    private readonly Dictionary<string, List<int>> _readers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _outputs;

    public Wiring(IReadOnlyList<PlanStep> steps, string[][] reads, IEnumerable<string> graphOutputs)
    {
        Steps = steps;
        for (var i = 0; i < steps.Count; i++)
        {
            foreach (var name in reads[i].Where(n => n.Length > 0).Distinct())
            {
                if (!_readers.TryGetValue(name, out var list)) _readers[name] = list = [];
                list.Add(i);
            }
        }
        _outputs = new HashSet<string>(graphOutputs, StringComparer.Ordinal);
    }

    public IReadOnlyList<PlanStep> Steps { get; }

    /// <summary>The one step reading <paramref name="name"/> (and reading it once), or −1; never for a graph output.</summary>
    public int SoleReader(string name) =>
        !_outputs.Contains(name) && _readers.TryGetValue(name, out var r) && r.Count == 1 && Steps[r[0]].Node.Input.Count(i => i == name) == 1 ? r[0] : -1;

    /// <summary>The steps reading <paramref name="name"/>.</summary>
    public IReadOnlyList<int> Readers(string name) => _readers.TryGetValue(name, out var r) ? r : [];

    /// <summary>The sole reader of step <paramref name="step"/>'s only output if it is bound to importer type <typeparamref name="TImporter"/>, or −1.</summary>
    public int Next<TImporter>(int step) where TImporter : INodeImporter
    {
        if (step < 0 || !OneOutput(Steps[step].Node)) return -1;
        var next = SoleReader(Steps[step].Node.Output[0]);
        return next >= 0 && Steps[next].Importer is TImporter && OneOutput(Steps[next].Node) ? next : -1;
    }

    /// <summary>True when every value the chain's nodes produce, except the last node's, is read only inside the chain and is no graph output.</summary>
    public bool Private(int[] chain) =>
        chain[..^1].All(s => Steps[s].Node.Output.Where(o => o.Length > 0).All(o => !_outputs.Contains(o) && Readers(o).All(chain.Contains)));

    /// <summary>True when the node has exactly one (non-empty) output.</summary>
    public static bool OneOutput(NodeProto n) => n.Output.Count >= 1 && n.Output[0].Length > 0 && n.Output.Skip(1).All(o => o.Length == 0);

    /// <summary>Position of <paramref name="name"/> among the node's inputs, or −1.</summary>
    public int InputIndex(int step, string name) => Steps[step].Node.Input.IndexOf(name);
}
