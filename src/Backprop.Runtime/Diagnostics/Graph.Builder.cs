namespace Backprop.Diagnostics;

/// <summary>
/// A computational graph as people draw it: ops as nodes, values on the edges, and — after one forward and backward pass —
/// each value's shape, each edge's gradient and how much gradient each node blocks. Built from an imported model
/// (<c>ModelGraph.Capture</c> in Backprop.Onnx) or from tensors recorded by autograd (<see cref="Trace"/>); drawn by
/// <see cref="ToDot"/> for Graphviz.
/// </summary>
public sealed partial class Graph
{
    private readonly List<GraphNode> _nodes = [];
    private readonly Dictionary<string, GraphValue> _values = new(StringComparer.Ordinal);
    private readonly List<GraphValue> _order = [];

    /// <summary>Creates an empty graph.</summary>
    public Graph(string title = "graph") => Title = title;

    /// <summary>A caption for the picture.</summary>
    public string Title { get; set; }

    /// <summary>Operations in topological order.</summary>
    public IReadOnlyList<GraphNode> Nodes => _nodes;

    /// <summary>Values in the order they were added.</summary>
    public IReadOnlyList<GraphValue> Values => _order;

    /// <summary>The value named <paramref name="name"/>, or null.</summary>
    public GraphValue? Find(string name) => _values.GetValueOrDefault(name);

    /// <summary>The value named <paramref name="name"/>, created with <paramref name="kind"/> when new.</summary>
    public GraphValue Value(string name, ValueKind kind = ValueKind.Intermediate)
    {
        if (_values.TryGetValue(name, out var v)) return v;
        v = new GraphValue(name, kind);
        _values[name] = v;
        _order.Add(v);
        return v;
    }

    /// <summary>
    /// Adds an operation reading <paramref name="inputs"/> and producing <paramref name="outputs"/> (by value name; values are
    /// created as needed). Nodes must be added producers first.
    /// </summary>
    public GraphNode AddNode(string op, string name, IEnumerable<string> inputs, IEnumerable<string> outputs) =>
        AddNode(op, name, inputs, outputs, 1, null);

    internal GraphNode AddNode(string op, string name, IEnumerable<string> inputs, IEnumerable<string> outputs, int repeats, string? detail)
    {
        var ins = inputs.Select(n => new GraphEdge(Value(n))).ToArray();
        foreach (var e in ins) e.Value.ConsumerCount++;
        var outs = outputs.Select(n => Value(n)).ToArray();
        var node = new GraphNode(_nodes.Count, op, name, ins, outs) { Repeats = repeats, Detail = detail };
        foreach (var o in outs)
        {
            if (o.Producer is not null) throw new ArgumentException($"value '{o.Name}' already has a producer ({o.Producer}).", nameof(outputs));
            o.Producer = node;
            if (o.Kind is ValueKind.Input or ValueKind.Parameter or ValueKind.Constant) o.Kind = ValueKind.Intermediate;
        }
        _nodes.Add(node);
        return node;
    }

    /// <summary>The nodes that read <paramref name="value"/>.</summary>
    public IEnumerable<GraphNode> Consumers(GraphValue value) => _nodes.Where(n => n.Inputs.Any(e => e.Value == value));

    /// <summary>The largest gradient norm on any edge or value (the reference for vanishing and exploding).</summary>
    public double LargestGradientNorm() => _reference ?? ObservedLargest();

    private double? _reference;

    private double ObservedLargest() =>
        _nodes.SelectMany(n => n.Inputs).Select(e => e.Gradient?.Norm ?? 0).Concat(_order.Select(v => v.Gradient?.Norm ?? 0))
            .Where(double.IsFinite).DefaultIfEmpty(0).Max();

    /// <summary>The graph rendered in Graphviz's DOT language (see <see cref="DotOptions"/>).</summary>
    public string ToDot(DotOptions? options = null) => DotWriter.Write(this, options ?? new DotOptions());
}
