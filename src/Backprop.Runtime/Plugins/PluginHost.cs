using System.Reflection;
using McMaster.NETCore.Plugins;

namespace Backprop.Runtime;

/// <summary>
/// Loads plugin assemblies, each into its own load context that shares the Abstractions types with the
/// host, checks their contract version, and registers their modules transactionally.
/// </summary>
internal sealed class PluginHost(OpRegistry ops, KernelRegistry kernels)
{
    private static readonly Type[] SharedTypes = [typeof(IDifferentiableOp), typeof(Tensor), typeof(IOpModule), typeof(BackpropPluginAttribute)];
    private readonly Dictionary<string, (PluginLoader Loader, bool Collectible)> _loaders = new(StringComparer.Ordinal);

    public List<LoadedPlugin> Loaded { get; } = [];

    public List<PluginFailure> Failures { get; } = [];

    /// <summary>Every plugin file a path names: a .dll, a plugin folder (Name/Name.dll), or a folder of plugin folders.</summary>
    public static IEnumerable<string> Expand(string path)
    {
        if (File.Exists(path))
        {
            yield return Path.GetFullPath(path);
            yield break;
        }
        if (!Directory.Exists(path)) yield break;
        var own = Path.Combine(path, Path.GetFileName(Path.TrimEndingDirectorySeparator(path)) + ".dll");
        if (File.Exists(own))
        {
            yield return Path.GetFullPath(own);
            yield break;
        }
        foreach (var dir in Directory.GetDirectories(path).Order(StringComparer.Ordinal))
        {
            var candidate = Path.Combine(dir, Path.GetFileName(dir) + ".dll");
            if (File.Exists(candidate)) yield return Path.GetFullPath(candidate);
        }
    }

    public void LoadFile(string path, bool collectible = true)
    {
        Assembly assembly;
        PluginLoader loader;
        try
        {
            loader = PluginLoader.CreateFromAssemblyFile(path, SharedTypes, config =>
            {
                config.PreferSharedTypes = true;
                config.IsUnloadable = collectible;
            });
            assembly = loader.LoadDefaultAssembly();
        }
        catch (Exception e)
        {
            Failures.Add(new PluginFailure(path, $"could not load the assembly: {e.Message}", e));
            return;
        }
        var contract = assembly.GetReferencedAssemblies().FirstOrDefault(a => a.Name == typeof(Tensor).Assembly.GetName().Name);
        if (contract?.Version is { } v && v.Major != ContractVersion.Major)
        {
            Failures.Add(new PluginFailure(path,
                $"built against Backprop.Abstractions {v.Major}.x but this host provides {ContractVersion.Major}.x; rebuild the plugin against the host's version.", null));
            return;
        }
        var attribute = assembly.GetCustomAttribute<BackpropPluginAttribute>();
        if (attribute is null)
        {
            Failures.Add(new PluginFailure(path, "not a Backprop plugin: the assembly has no [assembly: BackpropPlugin(typeof(Module))] attribute.", null));
            return;
        }
        IOpModule module;
        try
        {
            module = Activator.CreateInstance(attribute.ModuleType) as IOpModule
                ?? throw new BackpropException($"{attribute.ModuleType.FullName} does not implement IOpModule.");
        }
        catch (Exception e)
        {
            var inner = e is TargetInvocationException { InnerException: { } ie } ? ie : e;
            Failures.Add(new PluginFailure(path, $"could not create module {attribute.ModuleType.FullName}: {inner.Message}", inner));
            return;
        }
        var name = assembly.GetName().Name ?? Path.GetFileNameWithoutExtension(path);
        if (Register(module, name, path)) _loaders[name] = (loader, collectible);
        else if (collectible) loader.Dispose();
    }

    /// <summary>Removes a plugin's ops and unloads its context; see <see cref="BackpropRuntime.Unload"/>.</summary>
    public WeakReference Unload(string name)
    {
        var plugin = Loaded.FirstOrDefault(p => p.Name == name)
            ?? throw new BackpropException($"no loaded plugin is named '{name}'; loaded: {string.Join(", ", Loaded.Select(p => p.Name))}.");
        if (!_loaders.TryGetValue(name, out var entry) || !entry.Collectible)
            throw new BackpropException($"plugin '{name}' was not loaded into a collectible context (the application's own plugins and in-process modules stay loaded).");
        if (plugin.Kernels.Count > 0)
            throw new BackpropException($"plugin '{name}' registered kernels ({string.Join(", ", plugin.Kernels)}), which routers may hold; it cannot be unloaded.");
        ops.RemovePlugin(name);
        Loaded.Remove(plugin);
        _loaders.Remove(name);
        var context = new WeakReference(entry.Loader.LoadContext);
        entry.Loader.Dispose();
        return context;
    }

    /// <summary>Registers a module all-or-nothing; a failure is recorded, never thrown.</summary>
    public bool Register(IOpModule module, string name, string path)
    {
        var staging = new StagingRegistry(name);
        try
        {
            module.Register(staging);
            foreach (var r in staging.Ops) ops.CheckFree(r);
        }
        catch (Exception e)
        {
            var inner = e is TargetInvocationException { InnerException: { } ie } ? ie : e;
            Failures.Add(new PluginFailure(path.Length > 0 ? path : name, $"plugin '{name}' failed to register: {inner.Message}", inner));
            return false;
        }
        foreach (var r in staging.Ops) ops.Add(r);
        foreach (var (contract, kernel, priority) in staging.Kernels) kernels.Add(contract, kernel, priority, name);
        Loaded.Add(new LoadedPlugin(name, path,
            staging.Ops.Select(r => r.Op.Schema.QualifiedName).ToList(),
            staging.Kernels.Select(k => k.Contract.Name).Distinct().ToList(), staging.Notes));
        return true;
    }
}
