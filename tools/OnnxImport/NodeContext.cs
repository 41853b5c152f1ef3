using Backprop.Onnx.Proto;

namespace Backprop.Onnx;

/// <summary>What a node importer sees when its node runs: the node, its input tensors, its attributes, the opset.</summary>
public sealed class NodeContext
{
    private readonly Dictionary<string, AttributeProto> _attributes;

    internal NodeContext(NodeProto node, Tensor?[] inputs, int opset, bool training, Random? random = null, bool batchStatistics = true)
    {
        BatchStatistics = training && batchStatistics;
        Node = node;
        Inputs = inputs;
        Opset = opset;
        Training = training;
        Random = random ?? System.Random.Shared;
        _attributes = node.Attribute.GroupBy(a => a.Name).ToDictionary(g => g.Key, g => g.Last());
    }

    internal IReadOnlyDictionary<string, GraphPlan>? Subgraphs { get; init; }

    internal IReadOnlyDictionary<string, Tensor>? Scope { get; init; }

    /// <summary>The caps the model was loaded under (<see cref="ImportLimits.MaxLoopIterations"/> for Loop).</summary>
    public ImportLimits Limits { get; internal init; } = ImportLimits.Default;

    internal Func<GraphPlan, Dictionary<string, Tensor>, Tensor[]>? RunSubgraph { get; init; }

    /// <summary>
    /// Runs the subgraph held in graph attribute <paramref name="attribute"/> (If's branches, Loop's body) with the values of
    /// the enclosing scopes visible and <paramref name="inputs"/> bound to its graph inputs in order; returns its outputs in
    /// order. Ops inside are recorded like any others, so gradients flow through the branch or iterations that ran.
    /// </summary>
    public Tensor[] Subgraph(string attribute, params Tensor?[] inputs)
    {
        if (Subgraphs?.GetValueOrDefault(attribute) is not { } plan || Scope is null || RunSubgraph is null)
            throw Error($"has no graph attribute '{attribute}'.");
        if (inputs.Length != plan.Inputs.Count) throw Error($"subgraph '{attribute}' declares {plan.Inputs.Count} inputs; {inputs.Length} given.");
        var scope = new Dictionary<string, Tensor>(Scope, StringComparer.Ordinal);
        for (var i = 0; i < inputs.Length; i++)
        {
            if (inputs[i] is { } t) scope[plan.Inputs[i]] = t;
        }
        return RunSubgraph(plan, scope);
    }

    /// <summary>The node.</summary>
    public NodeProto Node { get; }

    /// <summary>Its name, or "OpType#outputs" when unnamed.</summary>
    public string Name => string.IsNullOrEmpty(Node.Name) ? $"{Node.OpType}({string.Join(",", Node.Output)})" : Node.Name;

    /// <summary>Input tensors in order; null where the input is omitted (empty name).</summary>
    public Tensor?[] Inputs { get; }

    /// <summary>The opset version of the node's domain.</summary>
    public int Opset { get; }

    /// <summary>Whether the model runs in training mode (BatchNormalization, Dropout).</summary>
    public bool Training { get; }

    /// <summary>Whether normalisation layers use (and update) batch statistics: training mode, unless frozen.</summary>
    public bool BatchStatistics { get; }

    /// <summary>The model's random source (Dropout masks), seeded and checkpointed by the trainer.</summary>
    public Random Random { get; }

    /// <summary>Input <paramref name="i"/>; an error naming the node when it is missing.</summary>
    public Tensor Input(int i) => i < Inputs.Length && Inputs[i] is { } t ? t : throw Error($"input {i} is required.");

    /// <summary>The inputs that are present, for variadic ops (Sum, Max, …); an error naming the node when there are none.</summary>
    public List<Tensor> Variadic()
    {
        var present = Inputs.Where(t => t is not null).Select(t => t!).ToList();
        return present.Count > 0 ? present : throw Error("needs at least one input.");
    }

    /// <summary>Input <paramref name="i"/> or null when absent.</summary>
    public Tensor? Optional(int i) => i < Inputs.Length ? Inputs[i] : null;

    /// <summary>An input holding integers (shapes, axes, pads), read as longs.</summary>
    public long[] Longs(int i) => Input(i).ToInt64Array();

    /// <summary>True if the attribute is present.</summary>
    public bool Has(string name) => _attributes.ContainsKey(name);

    /// <summary>Integer attribute.</summary>
    public long Int(string name, long fallback) => _attributes.TryGetValue(name, out var a) ? a.I : fallback;

    /// <summary>Required integer attribute.</summary>
    public long Int(string name) => _attributes.TryGetValue(name, out var a) ? a.I : throw Error($"attribute '{name}' is required.");

    /// <summary>Float attribute.</summary>
    public float Float(string name, float fallback) => _attributes.TryGetValue(name, out var a) ? a.F : fallback;

    /// <summary>String attribute.</summary>
    public string String(string name, string fallback) => _attributes.TryGetValue(name, out var a) ? a.S.ToStringUtf8() : fallback;

    /// <summary>Integer-list attribute.</summary>
    public long[]? Ints(string name) => _attributes.TryGetValue(name, out var a) ? a.Ints.ToArray() : null;

    /// <summary>String-list attribute, or null.</summary>
    public string[]? Strings(string name) => _attributes.TryGetValue(name, out var a) ? a.Strings.Select(b => b.ToStringUtf8()).ToArray() : null;

    /// <summary>Float-list attribute, or null.</summary>
    public float[]? Floats(string name) => _attributes.TryGetValue(name, out var a) ? a.Floats.ToArray() : null;

    /// <summary>Tensor attribute.</summary>
    public TensorProto? TensorAttribute(string name) => _attributes.TryGetValue(name, out var a) ? a.T : null;

    /// <summary>An import error naming this node.</summary>
    public OnnxImportException Error(string message) => new(message, node: Name);
}

/// <summary>Turns one ONNX node into Backprop ops when it runs. One implementation per ONNX op (and version range).</summary>
public interface INodeImporter
{
    /// <summary>ONNX op_type.</summary>
    string OpType { get; }

    /// <summary>ONNX domain ("" for the default ai.onnx domain).</summary>
    string Domain => "";

    /// <summary>First opset this importer serves.</summary>
    int SinceVersion => 1;

    /// <summary>Last opset it serves (inclusive).</summary>
    int UntilVersion => int.MaxValue;

    /// <summary>Computes the node's outputs (null for an output that is not produced).</summary>
    Tensor?[] Run(NodeContext ctx);

    /// <summary>Why this node's attribute configuration is not supported (checked before anything runs), or null.</summary>
    string? Unsupported(Backprop.Onnx.Proto.NodeProto node) => null;
}
