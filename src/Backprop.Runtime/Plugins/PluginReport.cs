namespace Backprop.Runtime;

/// <summary>A plugin that loaded: its name, where it came from and what it registered.</summary>
/// <param name="Name">Assembly name.</param>
/// <param name="Path">File it was loaded from (empty for in-process modules).</param>
/// <param name="Ops">Qualified names of the ops it registered.</param>
/// <param name="Kernels">Kernel contracts it implemented.</param>
/// <param name="Notes">Messages the plugin left for the host (e.g. why an optional backend is off).</param>
public sealed record LoadedPlugin(string Name, string Path, IReadOnlyList<string> Ops, IReadOnlyList<string> Kernels, IReadOnlyList<string> Notes);

/// <summary>A plugin that did not load, and why.</summary>
/// <param name="Path">File or folder that was tried.</param>
/// <param name="Reason">What went wrong, in words.</param>
/// <param name="Error">The underlying exception, if any.</param>
public sealed record PluginFailure(string Path, string Reason, Exception? Error)
{
    /// <inheritdoc />
    public override string ToString() => $"{Path}: {Reason}";
}

/// <summary>Raised by <see cref="BackpropRuntime.Create"/> with <c>ThrowOnPluginFailure</c> when a plugin fails.</summary>
public sealed class PluginLoadException(string message, IReadOnlyList<PluginFailure> failures) : BackpropException(message)
{
    /// <summary>Every plugin that failed.</summary>
    public IReadOnlyList<PluginFailure> Failures { get; } = failures;
}
