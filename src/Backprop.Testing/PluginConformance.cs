using Backprop.Runtime;

namespace Backprop.Testing;

/// <summary>
/// The plugin author's one call: load a plugin assembly beside the standard ops and run the conformance kit on every op it
/// registers. The standard ops (which derivative rules call) come from the plugins folder beside the test assembly — the
/// Backprop.Testing package copies Ops.Core there — or from <see cref="BackpropRuntime.PluginPathVariable"/>.
/// </summary>
public static class PluginConformance
{
    /// <summary>Runs the kit on every op the plugin at <paramref name="pluginPath"/> registers.</summary>
    /// <exception cref="PluginLoadException">The plugin did not load, or registers no ops.</exception>
    public static IReadOnlyList<CheckResult> Check(string pluginPath, CheckOptions? options = null)
    {
        var (runtime, ops) = Load(pluginPath);
        return ops.SelectMany(op => OpConformance.Check(runtime, op, options)).ToList();
    }

    /// <summary>
    /// A runtime with the standard plugins and the plugin at <paramref name="pluginPath"/> (a .dll or its folder), and the
    /// ops that plugin registered (ordered by domain and name).
    /// </summary>
    /// <exception cref="PluginLoadException">The plugin did not load, or registers no ops.</exception>
    public static (BackpropRuntime Runtime, IReadOnlyList<IDifferentiableOp> Ops) Load(string pluginPath)
    {
        var full = Path.GetFullPath(pluginPath);
        var runtime = BackpropRuntime.Create(new RuntimeOptions { PluginPaths = { full } });
        var plugin = runtime.Plugins.FirstOrDefault(p => p.Path == full || p.Path.StartsWith(full + Path.DirectorySeparatorChar, StringComparison.Ordinal));
        if (plugin is null)
            throw new PluginLoadException($"the plugin at {full} did not load: " + string.Join("; ", runtime.PluginFailures.Where(f => f.Path.StartsWith(full, StringComparison.Ordinal)).Select(f => f.Reason).DefaultIfEmpty("no plugin assembly found there")), runtime.PluginFailures);
        if (plugin.Ops.Count == 0) throw new PluginLoadException($"the plugin at {full} registers no ops.", []);
        return (runtime, runtime.Ops.All.Where(r => r.Plugin == plugin.Name).Select(r => r.Op).ToList());
    }

    /// <summary>Runs <see cref="Check"/> and throws <see cref="ConformanceException"/> listing every failed check.</summary>
    public static void AssertConforms(string pluginPath, CheckOptions? options = null) => OpConformance.AssertAllPassed(Check(pluginPath, options));
}
