namespace Backprop.Diagnostics;

/// <summary>What a value in a <see cref="Graph"/> is.</summary>
public enum ValueKind
{
    /// <summary>A graph input.</summary>
    Input,

    /// <summary>A trainable tensor (initializer or leaf that requires grad).</summary>
    Parameter,

    /// <summary>A constant tensor that carries no gradient.</summary>
    Constant,

    /// <summary>A value one node produces and others consume.</summary>
    Intermediate,

    /// <summary>A graph output.</summary>
    Output,
}

/// <summary>A value (tensor) of a <see cref="Graph"/> with what was observed of it on one forward and backward pass.</summary>
public sealed class GraphValue
{
    internal GraphValue(string name, ValueKind kind)
    {
        Name = name;
        Kind = kind;
    }

    /// <summary>The value's name.</summary>
    public string Name { get; }

    /// <summary>Input, parameter, constant, intermediate or output.</summary>
    public ValueKind Kind { get; set; }

    /// <summary>Shape seen on the forward pass, or null when not observed.</summary>
    public Shape? Shape { get; internal set; }

    /// <summary>Element type seen on the forward pass.</summary>
    public DType? DType { get; internal set; }

    /// <summary>Statistics of the value itself (e.g. the fraction of zeros a ReLU produced).</summary>
    public TensorStats? Stats { get; internal set; }

    /// <summary>Up to four elements, for small values (scalars in textbook circuits).</summary>
    public double[]? Preview { get; internal set; }

    /// <summary>The total gradient of the loss with respect to this value (summed over its consumers), or null if none flowed.</summary>
    public TensorStats? Gradient { get; internal set; }

    /// <summary>Up to four elements of the gradient, for small values.</summary>
    public double[]? GradientPreview { get; internal set; }

    /// <summary>The node that produced it, or null for inputs, parameters and constants.</summary>
    public GraphNode? Producer { get; internal set; }

    /// <summary>How many node inputs read this value.</summary>
    public int ConsumerCount { get; internal set; }

    /// <summary>True when the value holds floating-point numbers (so a gradient can flow along it).</summary>
    public bool IsDifferentiable => DType is null || DType.Value.IsFloatingPoint();

    /// <summary>Records the value seen on the forward pass.</summary>
    public void Observe(Tensor value)
    {
        Shape = value.Shape;
        DType = value.DType;
        Stats = TensorStats.Of(value);
        Preview = value.Size <= 4 ? Enumerable.Range(0, value.Size).Select(value.GetAsDouble).ToArray() : null;
    }

    /// <summary>Records the gradient with respect to this value seen on the backward pass.</summary>
    public void ObserveGradient(Tensor gradient)
    {
        Gradient = TensorStats.Of(gradient);
        GradientPreview = gradient.Size <= 4 ? Enumerable.Range(0, gradient.Size).Select(gradient.GetAsDouble).ToArray() : null;
    }

    internal void CopyObservations(GraphValue from)
    {
        (Shape, DType, Stats, Preview, Gradient, GradientPreview) = (from.Shape, from.DType, from.Stats, from.Preview, from.Gradient, from.GradientPreview);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Kind}{(Shape is null ? "" : " " + Shape)})";
}

/// <summary>One input edge of a node: the value it reads and the gradient the node sent back along it.</summary>
public sealed class GraphEdge
{
    internal GraphEdge(GraphValue value) => Value = value;

    /// <summary>The value read.</summary>
    public GraphValue Value { get; }

    private TensorStats? _gradient;

    /// <summary>
    /// The gradient this node sent back to the value along this edge (its share when the value fans out), or null when
    /// unobserved. A value read by one node only has one edge, whose gradient is the value's.
    /// </summary>
    public TensorStats? Gradient => _gradient ?? (Value.ConsumerCount == 1 ? Value.Gradient : null);

    /// <summary>Records the gradient that flowed back along this edge.</summary>
    public void ObserveGradient(Tensor gradient) => _gradient = TensorStats.Of(gradient);

    internal void CopyGradient(GraphEdge from) => _gradient = from._gradient ?? from.Gradient;

    internal void SetGradient(TensorStats? gradient) => _gradient = gradient;
}

/// <summary>An operation of a <see cref="Graph"/>.</summary>
public sealed class GraphNode
{
    internal GraphNode(int index, string op, string name, GraphEdge[] inputs, GraphValue[] outputs)
    {
        Index = index;
        Op = op;
        Name = name;
        Inputs = inputs;
        Outputs = outputs;
    }

    /// <summary>Position in the graph's node list (topological order).</summary>
    public int Index { get; }

    /// <summary>The operation (op type), or a summary for a collapsed block.</summary>
    public string Op { get; }

    /// <summary>The node's name.</summary>
    public string Name { get; }

    /// <summary>Input edges in order.</summary>
    public IReadOnlyList<GraphEdge> Inputs { get; }

    /// <summary>Output values in order.</summary>
    public IReadOnlyList<GraphValue> Outputs { get; }

    /// <summary>For a node standing for a collapsed run of repeated blocks: how many times the block repeats.</summary>
    public int Repeats { get; internal init; } = 1;

    /// <summary>For a collapsed node: the op sequence of one block and the number of nodes it stands for.</summary>
    public string? Detail { get; internal init; }

    /// <summary>
    /// How much of the gradient this node blocks on its way back: per floating-point input, the fraction of that edge's
    /// gradient elements that are zero beyond what was already zero in the gradient of its outputs (ReLU masks, max routing,
    /// clipping). Null where no gradient was observed.
    /// </summary>
    public double? BlockedFraction
    {
        get
        {
            var outZeros = Outputs.Select(o => o.Gradient).Where(g => g is not null).Select(g => g!.Value.ZeroFraction).DefaultIfEmpty(double.NaN).Max();
            // Weights are not what a gate routes: judge by the data inputs, or by every input when all are parameters.
            var withGradient = Inputs.Where(e => e.Gradient is not null).ToList();
            var data = withGradient.Where(e => e.Value.Kind != ValueKind.Parameter).ToList();
            var inputs = data.Count > 0 ? data : withGradient;
            if (double.IsNaN(outZeros) || inputs.Count == 0) return null;
            return Math.Max(0, inputs.Average(e => e.Gradient!.Value.ZeroFraction) - outZeros);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Op} '{Name}'";
}
