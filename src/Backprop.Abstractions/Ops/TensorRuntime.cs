namespace Backprop;

/// <summary>
/// What tensors and rules call into: the engine that resolves ops, records the graph and runs backward.
/// Backprop.Runtime provides the implementation; plugins only see this contract.
/// </summary>
public interface ITensorRuntime
{
    /// <summary>Invokes the op registered as (<paramref name="domain"/>, <paramref name="name"/>).</summary>
    Tensor[] Invoke(string domain, string name, ReadOnlySpan<Tensor> inputs, OpAttributes attributes);

    /// <summary>Invokes a specific op instance (e.g. a plugin's own helper op).</summary>
    Tensor[] Invoke(IDifferentiableOp op, ReadOnlySpan<Tensor> inputs, OpAttributes attributes);

    /// <summary>Reverse-mode pass from <paramref name="output"/>, accumulating into leaves' Grad.</summary>
    void Backward(Tensor output, Tensor? seed, bool retainGraph, bool createGraph);

    /// <summary>Registered kernels.</summary>
    IKernelProvider Kernels { get; }
}

/// <summary>Access to the active <see cref="ITensorRuntime"/>.</summary>
public static class TensorRuntime
{
    [ThreadStatic] private static ITensorRuntime? s_scoped;
    private static ITensorRuntime? s_default;
    private static readonly Lock s_gate = new();

    /// <summary>The runtime used on this thread: a scoped one if active, else the process default.</summary>
    public static ITensorRuntime Current => s_scoped ?? s_default ?? LoadDefault();

    /// <summary>Sets the process-wide default runtime.</summary>
    public static void SetDefault(ITensorRuntime runtime) => s_default = runtime;

    /// <summary>Makes <paramref name="runtime"/> current on this thread until the scope is disposed.</summary>
    public static IDisposable Use(ITensorRuntime runtime)
    {
        var previous = s_scoped;
        s_scoped = runtime;
        return new Restore(previous);
    }

    private static ITensorRuntime LoadDefault()
    {
        lock (s_gate)
        {
            if (s_default is not null) return s_default;
            // Backprop.Runtime registers itself when its type initialiser runs.
            var type = Type.GetType("Backprop.Runtime.BackpropRuntime, Backprop.Runtime");
            type?.GetProperty("Default")?.GetValue(null);
            return s_default ?? throw new BackpropException(
                "No Backprop runtime is active. Reference Backprop.Runtime and use BackpropRuntime.Default or BackpropRuntime.Create(...).");
        }
    }

    private sealed class Restore(ITensorRuntime? previous) : IDisposable
    {
        public void Dispose() => s_scoped = previous;
    }
}
