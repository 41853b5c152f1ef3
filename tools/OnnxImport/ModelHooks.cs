namespace Backprop.Onnx;

/// <summary>One node that just ran: its name, op type, and its input and output tensors by value name.</summary>
/// <param name="Node">The node's name (or "OpType(outputs)" when unnamed).</param>
/// <param name="OpType">The ONNX op type.</param>
/// <param name="Inputs">Input value names and tensors (null where omitted).</param>
/// <param name="Outputs">Output value names and tensors (null where not produced).</param>
public sealed record NodeActivity(string Node, string OpType, IReadOnlyList<(string Name, Tensor? Value)> Inputs, IReadOnlyList<(string Name, Tensor? Value)> Outputs);

/// <summary>
/// A gradient seen on the backward pass. With <see cref="Consumer"/> null it is the total gradient of the loss with respect
/// to value <see cref="Value"/>; otherwise it is the share that node <see cref="Consumer"/> sent back along its edge (reported
/// for values read by more than one node, whose total is the sum of the shares).
/// </summary>
/// <param name="Value">The value's name (graph input, initializer or node output).</param>
/// <param name="Producer">The node that produced the value, or null for inputs and initializers.</param>
/// <param name="Consumer">The reading node whose share this is, or null for the total.</param>
/// <param name="Gradient">The gradient tensor (do not modify it).</param>
public sealed record GradientFlow(string Value, string? Producer, string? Consumer, Tensor Gradient);

/// <summary>The hooks subscribed to a model; the graph runner consults it while it runs.</summary>
internal sealed class ModelHooks
{
    private readonly object _gate = new();
    private Action<NodeActivity>[] _forward = [];
    private Action<GradientFlow>[] _backward = [];
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Tensor, Func<Tensor, Tensor?>> _leafHooks = [];

    public Action<NodeActivity>[] Forward => _forward;

    public Action<GradientFlow>[] Backward => _backward;

    public IDisposable AddForward(Action<NodeActivity> hook)
    {
        lock (_gate) _forward = [.. _forward, hook];
        return new Subscription(() => { lock (_gate) _forward = _forward.Where(h => h != hook).ToArray(); });
    }

    public IDisposable AddBackward(Action<GradientFlow> hook)
    {
        lock (_gate) _backward = [.. _backward, hook];
        return new Subscription(() =>
        {
            lock (_gate)
            {
                _backward = _backward.Where(h => h != hook).ToArray();
                if (_backward.Length > 0) return;
                foreach (var (t, h) in _leafHooks) t.RemoveHook(h);
                _leafHooks.Clear();
            }
        });
    }

    public void Report(GradientFlow flow)
    {
        foreach (var h in _backward) h(flow);
    }

    /// <summary>
    /// Hooks a tensor so its total gradient is reported under <paramref name="value"/>. Leaves (initializers, inputs that
    /// require grad) get one hook, removed when the last backward subscriber leaves (held weakly, so dropped inputs are not
    /// kept alive); intermediate tensors live for one run, and so do their hooks.
    /// </summary>
    public void Watch(Tensor t, string value, string? producer)
    {
        if (!t.RequiresGrad) return;
        Func<Tensor, Tensor?> hook = g => { Report(new GradientFlow(value, producer, null, g)); return null; };
        if (t.IsLeaf)
        {
            lock (_gate)
            {
                if (!_leafHooks.TryAdd(t, hook)) return;
            }
        }
        t.RegisterHook(hook);
    }

    private sealed class Subscription(Action dispose) : IDisposable
    {
        private Action? _dispose = dispose;

        public void Dispose() => Interlocked.Exchange(ref _dispose, null)?.Invoke();
    }
}
