using System.ComponentModel;
using Backprop.Runtime;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Backprop.Cli.Commands;

/// <summary>`backprop info`: what the runtime loaded and from where.</summary>
internal sealed class InfoCommand : Command<InfoCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("-p|--plugin <PATH>")]
        [Description("Extra plugin file or folder to load (repeatable).")]
        public string[] Plugins { get; init; } = [];

        [CommandOption("--calibrate")]
        [Description("Route the benchmark's network shapes through the GEMM router and show which backend serves each, and why.")]
        public bool Calibrate { get; init; }

        [CommandOption("--ops")]
        [Description("List every registered op.")]
        public bool ListOps { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var options = new RuntimeOptions();
        options.PluginPaths.AddRange(settings.Plugins);
        var rt = BackpropRuntime.Create(options);

        AnsiConsole.MarkupLine($"[bold]Backprop[/] contract {ContractVersion.Major}, default plugin folder [grey]{Markup.Escape(BackpropRuntime.DefaultPluginFolder)}[/]");
        var plugins = new Table().AddColumns("Plugin", "Ops", "Kernels", "Path");
        foreach (var p in rt.Plugins)
            plugins.AddRow(Markup.Escape(p.Name), p.Ops.Count.ToString(), Markup.Escape(string.Join(", ", p.Kernels)), Markup.Escape(p.Path));
        AnsiConsole.Write(plugins);
        foreach (var p in rt.Plugins)
            foreach (var note in p.Notes) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(p.Name)}:[/] {Markup.Escape(note)}");

        var kernels = new Table().AddColumns("Kernel contract", "Implementation", "Priority", "Plugin");
        foreach (var (contract, impl, priority, plugin) in rt.KernelRegistry.Describe())
            kernels.AddRow(contract.Name, Markup.Escape(impl), priority.ToString(), Markup.Escape(plugin));
        AnsiConsole.Write(kernels);
        foreach (var gemm in rt.KernelRegistry.GetAll<IGemm>())
            AnsiConsole.MarkupLine($"IGemm backend: [green]{Markup.Escape(gemm.Name)}[/]");

        if (settings.Calibrate) ShowRoutes(rt);

        if (settings.ListOps)
        {
            var ops = new Table().AddColumns("Op", "Since", "Inputs", "Higher order", "Plugin");
            foreach (var r in rt.Ops.All)
            {
                var s = r.Op.Schema;
                ops.AddRow(Markup.Escape(s.QualifiedName), s.SinceVersion.ToString(),
                    s.MinInputs == s.MaxInputs ? s.MinInputs.ToString() : $"{s.MinInputs}–{(s.MaxInputs == int.MaxValue ? "n" : s.MaxInputs)}",
                    r.Op.SupportsHigherOrder ? "yes" : "[yellow]once[/]", Markup.Escape(r.Plugin));
            }
            AnsiConsole.Write(ops);
        }
        foreach (var f in rt.PluginFailures)
            AnsiConsole.MarkupLine($"[red]plugin failed[/] {Markup.Escape(f.Path)}: {Markup.Escape(f.Reason)}");
        return rt.PluginFailures.Count == 0 ? 0 : 2;
    }

    private static void ShowRoutes(BackpropRuntime rt)
    {
        var router = rt.KernelRegistry.Get<IGemmRouter>();
        (bool, bool, int, int, int)[] shapes =
        [
            (false, false, 64, 64, 64), (false, false, 256, 256, 256), (false, false, 1024, 1024, 1024),
            (false, false, 128, 512, 784), (false, true, 128, 784, 512), (true, false, 784, 512, 128), (false, false, 200704, 64, 576),
        ];
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            foreach (var (ta, tb, m, n, k) in shapes) router.Select(rt.Kernels, ta, tb, m, n, k, dtype);
        var table = new Table().AddColumns("Shape class", "Backend", "Why");
        foreach (var r in router.Routes) table.AddRow(Markup.Escape(r.ShapeClass), Markup.Escape(r.Backend), Markup.Escape(r.Reason));
        AnsiConsole.Write(table);
    }
}
