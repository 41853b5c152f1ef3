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
        var full = Path.GetFullPath(pluginPath);
        var runtime = BackpropRuntime.Create(new RuntimeOptions { PluginPaths = { full } });
        var plugin = runtime.Plugins.FirstOrDefault(p => p.Path == full || p.Path.StartsWith(full + Path.DirectorySeparatorChar, StringComparison.Ordinal));
        if (plugin is null)
            throw new PluginLoadException($"the plugin at {full} did not load:\n  " + string.Join("\n  ", runtime.PluginFailures), runtime.PluginFailures);
        if (plugin.Ops.Count == 0) throw new PluginLoadException($"the plugin at {full} registers no ops.", []);
        return runtime.Ops.All.Where(r => plugin.Ops.Contains(r.Op.Schema.QualifiedName)).SelectMany(r => OpConformance.Check(runtime, r.Op, options)).ToList();
    }

    /// <summary>Runs <see cref="Check"/> and throws <see cref="ConformanceException"/> listing every failed check.</summary>
    public static void AssertConforms(string pluginPath, CheckOptions? options = null) => OpConformance.AssertAllPassed(Check(pluginPath, options));
}
