namespace Backprop;

/// <summary>
/// Per-invocation state of an op: attributes, the inputs and outputs its rules may read, which inputs
/// need gradients, the kernels to compute with, and any extra state the forward pass saved.
/// The engine releases it after a backward pass unless the graph is retained.
/// </summary>
public sealed class OpContext
{
    private Tensor[]? _inputs;
    private Tensor[]? _outputs;
    private object? _saved;

    /// <summary>Creates a context; the engine does this for every invocation.</summary>
    public OpContext(IDifferentiableOp op, OpAttributes attributes, Tensor[] inputs, IKernelProvider kernels)
    {
        Op = op;
        Attributes = attributes;
        _inputs = inputs;
        Kernels = kernels;
        NeedsInputGrad = new bool[inputs.Length];
    }

    /// <summary>The op this context belongs to.</summary>
    public IDifferentiableOp Op { get; }

    /// <summary>Attributes of the invocation.</summary>
    public OpAttributes Attributes { get; }

    /// <summary>Kernels (GEMM, …) resolved from the registry.</summary>
    public IKernelProvider Kernels { get; }

    /// <summary>Which inputs need a gradient; rules may skip the others and return null for them.</summary>
    public bool[] NeedsInputGrad { get; }

    /// <summary>Number of inputs.</summary>
    public int InputCount => NeedsInputGrad.Length;

    /// <summary>True once the engine freed the saved tensors.</summary>
    public bool IsReleased { get; private set; }

    /// <summary>Input <paramref name="index"/> as it was passed to Forward.</summary>
    public Tensor Input(int index) => (_inputs ?? throw Freed())[index];

    /// <summary>The saved inputs (engine use; throws once released).</summary>
    public IReadOnlyList<Tensor> InputsForEngine() => _inputs ?? throw Freed();

    /// <summary>Output <paramref name="index"/> as Forward returned it.</summary>
    public Tensor Output(int index) => (_outputs ?? throw Freed())[index];

    /// <summary>Number of outputs Forward produced.</summary>
    public int OutputCount => (_outputs ?? throw Freed()).Length;

    /// <summary>Extra state saved by Forward (e.g. indices of maxima).</summary>
    public T Saved<T>() where T : class => (IsReleased ? throw Freed() : _saved as T)
        ?? throw new InvalidOperationException($"{Op.Schema.QualifiedName} saved no {typeof(T).Name}.");

    /// <summary>Stores extra state for the rules.</summary>
    public void Save(object state) => _saved = state;

    /// <summary>Called by the engine once Forward returned.</summary>
    public void SetOutputs(Tensor[] outputs) => _outputs = outputs;

    /// <summary>Frees saved inputs, outputs and state; later reads raise a clear error.</summary>
    public void Release()
    {
        IsReleased = true;
        _inputs = null;
        _outputs = null;
        _saved = null;
    }

    private InvalidOperationException Freed() => new(
        $"The saved tensors of '{Op.Schema.QualifiedName}' were freed by an earlier backward pass. " +
        "Pass retainGraph: true to the first backward if you need to walk the graph again.");
}
