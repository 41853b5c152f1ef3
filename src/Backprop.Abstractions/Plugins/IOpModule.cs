namespace Backprop;

/// <summary>A plugin's entry point: registers its ops and kernels explicitly.</summary>
public interface IOpModule
{
    /// <summary>Registers everything the plugin offers.</summary>
    void Register(IOpRegistry registry);
}

/// <summary>Where a plugin registers its ops and kernels.</summary>
public interface IOpRegistry
{
    /// <summary>Registers <paramref name="op"/> under its schema's (domain, name, since-version). A key already taken is an error.</summary>
    void AddOp(IDifferentiableOp op);

    /// <summary>Registers <paramref name="op"/> replacing whatever holds its key, if <paramref name="priority"/> is higher.</summary>
    void OverrideOp(IDifferentiableOp op, int priority);

    /// <summary>Registers a kernel implementation; the highest priority wins.</summary>
    void AddKernel<TKernel>(TKernel kernel, int priority = 0) where TKernel : class;

    /// <summary>Records a message for the host to show once (e.g. why an optional backend is off).</summary>
    void Note(string message);
}

/// <summary>Marks an assembly as a Backprop plugin and names its module type.</summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class BackpropPluginAttribute(Type moduleType) : Attribute
{
    /// <summary>The <see cref="IOpModule"/> implementation to instantiate.</summary>
    public Type ModuleType { get; } = moduleType;
}

/// <summary>The op contract's version: a plugin compiled against another major version is refused.</summary>
public static class ContractVersion
{
    /// <summary>Major version of the plugin contract (Backprop.Abstractions' assembly major version).</summary>
    public static int Major => typeof(ContractVersion).Assembly.GetName().Version?.Major ?? 0;
}
