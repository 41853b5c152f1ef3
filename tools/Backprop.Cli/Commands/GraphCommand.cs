using System.ComponentModel;
using System.Globalization;
using Backprop.Diagnostics;
using Backprop.Onnx;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Backprop.Cli.Commands;

/// <summary>
/// `backprop graph MODEL.onnx --out graph.svg`: the computational graph with shapes and, after one backward pass, the
/// gradient norm on every edge, vanishing and exploding gradients coloured, and what each ReLU or max blocks.
/// </summary>
internal sealed class GraphCommand : Command<GraphCommand.Settings>
{
    public sealed class Settings : ModelSettings
    {
        [CommandOption("-s|--seed <OUTPUT=FILE>")]
        [Description("Cotangent of an output (repeatable); L = Σ ⟨seed, output⟩. Outputs without one get a fixed random normal seed.")]
        public string[] Seeds { get; init; } = [];

        [CommandOption("-o|--out <FILE>")]
        [Description("Picture to write: .svg, .png or .pdf (rendered by Graphviz's dot; the .dot source is written beside it) or .dot.")]
        public string Out { get; init; } = "graph.svg";

        [CommandOption("--prefix <NAME>")]
        [Description("Keep only nodes whose name starts with NAME (repeatable); what they read from elsewhere becomes inputs.")]
        public string[] Prefixes { get; init; } = [];

        [CommandOption("--collapse <MODE>")]
        [Description("Collapse runs of repeated blocks: auto (when over 120 nodes), on or off.")]
        public string Collapse { get; init; } = "auto";

        [CommandOption("--forward-only")]
        [Description("Shapes only; no backward pass.")]
        public bool ForwardOnly { get; init; }

        [CommandOption("--left-to-right")]
        [Description("Lay the graph out left to right (as textbook circuits are drawn).")]
        public bool LeftToRight { get; init; }

        [CommandOption("--random-seed <N>")]
        [Description("Seed for inputs and output seeds that are not given (default 0).")]
        public int RandomSeed { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
        CliErrors.Guard(() =>
        {
            var extension = Path.GetExtension(settings.Out).ToLowerInvariant();
            if (extension is not (".svg" or ".png" or ".pdf" or ".dot")) throw new CliException($"--out '{settings.Out}' must end in .svg, .png, .pdf or .dot.");
            if (settings.Collapse is not ("auto" or "on" or "off")) throw new CliException($"--collapse must be auto, on or off, not '{settings.Collapse}'.");
            Runtime.Use(settings.Plugins);
            var model = OnnxModel.Load(settings.Model);
            var inputs = TensorArguments.Read(settings.Inputs, "--input");
            var drawn = model.Inputs.Where(i => !inputs.ContainsKey(i.Name)).ToList();
            if (drawn.Count > 0)
            {
                var random = ModelGraph.RandomInputs(model, settings.RandomSeed, inputs.Keys);
                foreach (var i in drawn) inputs[i.Name] = random[i.Name];
                AnsiConsole.MarkupLine($"[grey]inputs drawn at random (standard normal, symbolic dimensions 1): {Markup.Escape(string.Join(", ", drawn.Select(i => $"{i.Name} {inputs[i.Name].Shape}")))}[/]");
            }
            var graph = ModelGraph.Capture(model, inputs, TensorArguments.Read(settings.Seeds, "--seed"), settings.RandomSeed, !settings.ForwardOnly);
            graph.Title = Path.GetFileName(settings.Model) + (settings.ForwardOnly ? "" : " — gradient of Σ⟨seed, output⟩");
            var all = graph;
            if (settings.Prefixes.Length > 0) graph = graph.Select(settings.Prefixes);
            if (settings.Collapse == "on" || (settings.Collapse == "auto" && graph.Nodes.Count > 120)) graph = graph.CollapseRepeats();
            var dot = graph.ToDot(new DotOptions { RankDirection = settings.LeftToRight ? "LR" : "TB" });
            var dotPath = extension == ".dot" ? settings.Out : Path.ChangeExtension(settings.Out, ".dot");
            var folder = Path.GetDirectoryName(Path.GetFullPath(settings.Out))!;
            Directory.CreateDirectory(folder);
            File.WriteAllText(dotPath, dot);
            Summarise(all, graph);
            if (extension == ".dot")
            {
                AnsiConsole.MarkupLine($"wrote {Markup.Escape(dotPath)} ({graph.Nodes.Count} nodes)");
                return;
            }
            try
            {
                Graphviz.Render(dot, settings.Out);
            }
            catch (GraphvizException e)
            {
                throw new CliException($"{e.Message} The DOT source is in {dotPath}.");
            }
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(settings.Out)} and {Markup.Escape(dotPath)} ({graph.Nodes.Count} nodes)");
        });

    private static void Summarise(Graph all, Graph drawn)
    {
        var largest = all.LargestGradientNorm();
        var edges = all.Nodes.SelectMany(n => n.Inputs).Where(e => e.Gradient is not null).ToList();
        if (edges.Count == 0) return;
        var vanishing = edges.Count(e => e.Gradient!.Value.Norm < 1e-7 * largest);
        var bad = edges.Count(e => e.Gradient!.Value.NonFinite > 0);
        AnsiConsole.MarkupLine($"{all.Nodes.Count} nodes, {edges.Count} edges with gradient; largest ‖∇‖ {TensorStats.Format(largest)}; " +
            $"vanishing (< 1e-7 of it): {vanishing}; non-finite: {bad}" + (drawn.Nodes.Count != all.Nodes.Count ? $"; drawn: {drawn.Nodes.Count} nodes" : ""));
        // Gates of the data flow only: a Slice or Gather that routes a weight's gradient to part of it is not one.
        var gates = all.Nodes.Where(n => n.BlockedFraction is > 0.01 && n.Inputs.Any(e => e.Gradient is not null && e.Value.Kind is ValueKind.Input or ValueKind.Intermediate))
            .OrderByDescending(n => n.BlockedFraction).Take(5).ToList();
        if (gates.Count > 0)
            AnsiConsole.MarkupLine("blocks most gradient: " + Markup.Escape(string.Join(", ",
                gates.Select(n => $"{n.Name} ({n.Op}) {(100 * n.BlockedFraction!.Value).ToString("0", CultureInfo.InvariantCulture)}%"))));
    }
}
