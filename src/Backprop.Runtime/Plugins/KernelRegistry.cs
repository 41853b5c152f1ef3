namespace Backprop.Runtime;

/// <summary>Kernels by contract type, highest priority first. Thread-safe.</summary>
public sealed class KernelRegistry : IKernelProvider
{
    private readonly Dictionary<Type, List<(object Kernel, int Priority, string Plugin)>> _kernels = [];
    private readonly Lock _gate = new();

    /// <inheritdoc />
    public TKernel Get<TKernel>() where TKernel : class
    {
        lock (_gate)
        {
            if (_kernels.TryGetValue(typeof(TKernel), out var list) && list.Count > 0) return (TKernel)list[0].Kernel;
        }
        throw new BackpropException($"No loaded plugin registers a {typeof(TKernel).Name} kernel. Is Ops.Core in the plugins folder?");
    }

    /// <inheritdoc />
    public IReadOnlyList<TKernel> GetAll<TKernel>() where TKernel : class
    {
        lock (_gate)
        {
            return _kernels.TryGetValue(typeof(TKernel), out var list) ? list.Select(k => (TKernel)k.Kernel).ToList() : [];
        }
    }

    /// <summary>Each kernel contract with its implementations and the plugins that registered them.</summary>
    public IReadOnlyList<(Type Contract, string Implementation, int Priority, string Plugin)> Describe()
    {
        lock (_gate)
        {
            return _kernels.SelectMany(p => p.Value.Select(k => (p.Key, k.Kernel.GetType().Name, k.Priority, k.Plugin))).ToList();
        }
    }

    internal void Add(Type contract, object kernel, int priority, string plugin)
    {
        lock (_gate)
        {
            if (!_kernels.TryGetValue(contract, out var list)) _kernels[contract] = list = [];
            list.Add((kernel, priority, plugin));
            list.Sort((a, b) => b.Priority.CompareTo(a.Priority));
        }
    }
}
