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
    private readonly List<PluginLoader> _loaders = [];

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

    public void LoadFile(string path)
    {
        Assembly assembly;
        try
        {
            var loader = PluginLoader.CreateFromAssemblyFile(path, SharedTypes, config =>
            {
                config.PreferSharedTypes = true;
                // Not collectible yet: an unloaded context would break kernels still in use (unloading comes with its own lifetime rules).
                config.IsUnloadable = false;
            });
            _loaders.Add(loader);
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
        Register(module, assembly.GetName().Name ?? Path.GetFileNameWithoutExtension(path), path);
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
