namespace Backprop.Runtime;

/// <summary>Options for <see cref="BackpropRuntime.Create"/>.</summary>
public sealed class RuntimeOptions
{
    /// <summary>Plugin files or folders to load, in order.</summary>
    public List<string> PluginPaths { get; } = [];

    /// <summary>Also load the plugins folder beside the runtime and the paths in BACKPROP_PLUGINS (default true).</summary>
    public bool LoadDefaultPlugins { get; set; } = true;

    /// <summary>Raise <see cref="PluginLoadException"/> if any plugin fails (default: report and go on).</summary>
    public bool ThrowOnPluginFailure { get; set; }

    /// <summary>In-process modules to register as if they were plugins, with their names.</summary>
    public List<(string Name, IOpModule Module)> Modules { get; } = [];
}

/// <summary>
/// The engine: op and kernel registries filled by plugins, and the dispatcher that records the graph.
/// <see cref="Default"/> loads the plugins folder beside the application; <see cref="Create"/> builds
/// isolated runtimes (e.g. in tests) that <see cref="Activate"/> makes current on a thread.
/// </summary>
public sealed class BackpropRuntime : ITensorRuntime
{
    /// <summary>Environment variable with extra plugin paths, separated by the platform's path separator.</summary>
    public const string PluginPathVariable = "BACKPROP_PLUGINS";

    private static readonly Lazy<BackpropRuntime> s_default = new(() =>
    {
        var rt = Create(new RuntimeOptions());
        TensorRuntime.SetDefault(rt);
        return rt;
    });

    private readonly PluginHost _host;

    private BackpropRuntime()
    {
        _host = new PluginHost(Ops, KernelRegistry);
    }

    /// <summary>The process-wide runtime, loaded on first use from the default plugin locations.</summary>
    public static BackpropRuntime Default => s_default.Value;

    /// <summary>Registered ops.</summary>
    public OpRegistry Ops { get; } = new();

    /// <summary>Registered kernels.</summary>
    public KernelRegistry KernelRegistry { get; }  = new();

    /// <inheritdoc />
    public IKernelProvider Kernels => KernelRegistry;

    /// <summary>Plugins that loaded.</summary>
    public IReadOnlyList<LoadedPlugin> Plugins => _host.Loaded;

    /// <summary>Plugins that failed, with reasons.</summary>
    public IReadOnlyList<PluginFailure> PluginFailures => _host.Failures;

    /// <summary>Where the default plugins folder is looked for.</summary>
    public static string DefaultPluginFolder => Path.Combine(AppContext.BaseDirectory, "plugins");

    /// <summary>Builds a runtime and loads its plugins. Failing plugins are reported in <see cref="PluginFailures"/>; the others load.</summary>
    public static BackpropRuntime Create(RuntimeOptions options)
    {
        var rt = new BackpropRuntime();
        var paths = new List<string>();
        if (options.LoadDefaultPlugins)
        {
            paths.Add(DefaultPluginFolder);
            var extra = Environment.GetEnvironmentVariable(PluginPathVariable);
            if (!string.IsNullOrWhiteSpace(extra)) paths.AddRange(extra.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        }
        paths.AddRange(options.PluginPaths);
        foreach (var path in paths)
        {
            // The application's own plugins folder (the standard ops) stays for the process; other plugins load into
            // collectible contexts so they can be unloaded.
            var collectible = !string.Equals(Path.GetFullPath(path), Path.GetFullPath(DefaultPluginFolder), StringComparison.Ordinal);
            var files = PluginHost.Expand(path).ToList();
            if (files.Count == 0 && options.PluginPaths.Contains(path))
                rt._host.Failures.Add(new PluginFailure(path, "no plugin found: expected a .dll, a folder Name/Name.dll, or a folder of such folders.", null));
            foreach (var file in files)
            {
                if (rt._host.Loaded.Any(p => string.Equals(p.Path, file, StringComparison.Ordinal))) continue;
                rt._host.LoadFile(file, collectible);
            }
        }
        foreach (var (name, module) in options.Modules) rt._host.Register(module, name, "");
        if (options.ThrowOnPluginFailure && rt._host.Failures.Count > 0)
            throw new PluginLoadException("Some plugins failed to load:\n  " + string.Join("\n  ", rt._host.Failures), rt._host.Failures);
        return rt;
    }

    /// <summary>
    /// Unloads plugin <paramref name="name"/>: its ops leave the registry at once (new calls fail with
    /// <see cref="OpNotFoundException"/>) and its load context is unloaded; the context is collected once no tensor or graph
    /// still references its ops. Returns a weak reference to the context, alive until it is collected. Plugins from the
    /// application's plugins folder and plugins that registered kernels (which routers may have cached) cannot be unloaded.
    /// </summary>
    public WeakReference Unload(string name) => _host.Unload(name);

    /// <summary>Makes this runtime current on the calling thread until the returned scope is disposed.</summary>
    public IDisposable Activate() => TensorRuntime.Use(this);

    /// <summary>Registers an in-process module; returns false (and records why) if it fails.</summary>
    public bool Register(string name, IOpModule module) => _host.Register(module, name, "");

    /// <inheritdoc />
    public Tensor[] Invoke(string domain, string name, ReadOnlySpan<Tensor> inputs, OpAttributes attributes) =>
        Invoker.Invoke(Ops.Resolve(domain, name), inputs, attributes, KernelRegistry);

    /// <inheritdoc />
    public Tensor[] Invoke(IDifferentiableOp op, ReadOnlySpan<Tensor> inputs, OpAttributes attributes) =>
        Invoker.Invoke(op, inputs, attributes, KernelRegistry);

    /// <inheritdoc />
    public void Backward(Tensor output, Tensor? seed, bool retainGraph, bool createGraph) =>
        Autograd.Backward([output], seed is null ? null : [seed], retainGraph, createGraph);
}
