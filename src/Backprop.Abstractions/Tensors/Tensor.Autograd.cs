namespace Backprop;

public sealed partial class Tensor
{
    private bool _requiresGrad;
    private List<Func<Tensor, Tensor?>>? _hooks;
    private (int Level, Tensor Tangent)[]? _tangents;

    /// <summary>
    /// On a leaf: whether gradients are accumulated into <see cref="Grad"/>. Non-leaves (tensors with a
    /// <see cref="GradFn"/>) always require grad; setting it on them is an error.
    /// </summary>
    public bool RequiresGrad
    {
        get => _requiresGrad || GradFn is not null;
        set
        {
            if (GradFn is not null)
                throw new InvalidOperationException($"RequiresGrad can only be set on leaf tensors; this one was produced by '{GradFn.OpName}'. Use Detach() first.");
            if (value && !DType.IsFloatingPoint())
                throw new DTypeException($"Only floating-point tensors can require gradients; this one is {DType}.");
            _requiresGrad = value;
        }
    }

    /// <summary>
    /// The accumulated gradient of a leaf (or of a non-leaf after <see cref="RetainGrad"/>). A tensor stored here outlives the
    /// <see cref="TensorScope"/> it was made in, until <see cref="ReleaseGrad"/> (which optimizers' ZeroGrad calls).
    /// </summary>
    public Tensor? Grad
    {
        get => _grad;
        set => _grad = value?.HoldAsGrad();
    }

    private Tensor? _grad;

    /// <summary>
    /// Sets <see cref="Grad"/> to null and, when its buffer was lent by a <see cref="TensorScope"/> and is held only because
    /// it was stored as a gradient, gives the buffer back to its pool: the tensor read from <see cref="Grad"/> (and its views)
    /// are then released. Call <see cref="Keep"/> on a gradient that must outlive this.
    /// </summary>
    public void ReleaseGrad()
    {
        if (_grad?._loan is { HeldByGrad: true, Returned: false } loan)
        {
            loan.Returned = true;
            loan.Pool.Put(loan.Array);
        }
        _grad = null;
    }

    /// <summary>The graph node that produced this tensor, or null for a leaf.</summary>
    public IGradNode? GradFn { get; internal set; }

    /// <summary>Which output of <see cref="GradFn"/> this tensor is.</summary>
    public int OutputIndex { get; internal set; }

    /// <summary>True when no recorded op produced this tensor.</summary>
    public bool IsLeaf => GradFn is null;

    /// <summary>True once <see cref="RetainGrad"/> was called on this non-leaf.</summary>
    public bool RetainsGrad { get; private set; }

    /// <summary>Keeps the gradient of this non-leaf in <see cref="Grad"/> after backward.</summary>
    public void RetainGrad()
    {
        if (IsLeaf) return;
        RetainsGrad = true;
    }

    /// <summary>
    /// Registers a hook that sees the gradient with respect to this tensor during backward and may
    /// replace it (return a tensor) or leave it (return null).
    /// </summary>
    public void RegisterHook(Func<Tensor, Tensor?> hook)
    {
        if (!RequiresGrad) throw new InvalidOperationException("Cannot register a gradient hook on a tensor that does not require grad.");
        (_hooks ??= []).Add(hook);
    }

    /// <summary>Removes a hook added with <see cref="RegisterHook"/>; false when it was not registered on this tensor.</summary>
    public bool RemoveHook(Func<Tensor, Tensor?> hook) => _hooks?.Remove(hook) ?? false;

    /// <summary>Hooks registered with <see cref="RegisterHook"/>.</summary>
    internal IReadOnlyList<Func<Tensor, Tensor?>> Hooks => (IReadOnlyList<Func<Tensor, Tensor?>>?)_hooks ?? [];

    /// <summary>A tensor sharing this one's values with no graph history and no tangents.</summary>
    public Tensor Detach() => Alias(Shape);

    /// <summary>Computes gradients of this tensor with respect to every leaf that requires grad (see the runtime's Autograd for options).</summary>
    public void Backward(Tensor? seed = null, bool retainGraph = false, bool createGraph = false) =>
        TensorRuntime.Current.Backward(this, seed, retainGraph, createGraph);

    /// <summary>The forward-mode tangent of this tensor at dual level <paramref name="level"/>, or null.</summary>
    internal Tensor? TangentAt(int level)
    {
        if (_tangents is null) return null;
        foreach (var (l, t) in _tangents)
        {
            if (l == level) return t;
        }
        return null;
    }

    /// <summary>Sets the tangent at <paramref name="level"/>.</summary>
    internal void SetTangent(int level, Tensor tangent)
    {
        if (_tangents is null)
        {
            _tangents = [(level, tangent)];
            return;
        }
        for (var i = 0; i < _tangents.Length; i++)
        {
            if (_tangents[i].Level == level)
            {
                _tangents[i] = (level, tangent);
                return;
            }
        }
        Array.Resize(ref _tangents, _tangents.Length + 1);
        _tangents[^1] = (level, tangent);
    }

    /// <summary>True if any tangent is attached (at any level, active or not).</summary>
    internal bool HasTangents => _tangents is not null;
}

/// <summary>A recorded node of the autograd graph, as seen from a tensor.</summary>
public interface IGradNode
{
    /// <summary>Name of the op that produced the node.</summary>
    string OpName { get; }

    /// <summary>A number unique to the node within the process, in creation order.</summary>
    long Id { get; }
}
