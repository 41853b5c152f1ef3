using System.ComponentModel;
using Backprop.Onnx;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Backprop.Cli.Commands;

/// <summary>`backprop inspect MODEL`: opsets, inputs, outputs, parameter count, op histogram and what is unsupported.</summary>
internal sealed class InspectCommand : Command<InspectCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<MODEL>")]
        [Description("Path to an .onnx model.")]
        public string Model { get; init; } = "";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
        CliErrors.Guard(() =>
        {
            var proto = ModelReader.Read(settings.Model);
            var g = proto.Graph;
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(Path.GetFileName(settings.Model))}[/] — producer {Markup.Escape(proto.ProducerName)} {Markup.Escape(proto.ProducerVersion)}, IR {proto.IrVersion}");
            AnsiConsole.MarkupLine("Opsets: " + Markup.Escape(string.Join(", ", proto.OpsetImport.Select(o => $"{(o.Domain.Length == 0 ? "ai.onnx" : o.Domain)} {o.Version}"))));
            var inits = g.Initializer.Select(i => i.Name).ToHashSet();
            var parameters = g.Initializer.Sum(t => t.Dims.Aggregate(1L, (a, b) => a * b));
            AnsiConsole.MarkupLine($"Parameters: {parameters:N0} in {g.Initializer.Count} initializers; {g.Node.Count} nodes");
            var io = new Table().AddColumns("Kind", "Name", "Type");
            foreach (var v in g.Input.Where(i => !inits.Contains(i.Name))) io.AddRow("input", Markup.Escape(v.Name), Markup.Escape(TypeOf(v)));
            foreach (var v in g.Output) io.AddRow("output", Markup.Escape(v.Name), Markup.Escape(TypeOf(v)));
            AnsiConsole.Write(io);
            var opset = proto.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => (int)o.Version).DefaultIfEmpty(1).Max();
            var histogram = new Table().AddColumns("Op", "Count", "Supported");
            foreach (var group in g.Node.GroupBy(n => (n.Domain, n.OpType)).OrderByDescending(x => x.Count()))
            {
                var supported = ImporterTable.Default.Find(group.Key.Domain is "ai.onnx" ? "" : group.Key.Domain, group.Key.OpType, opset) is not null;
                histogram.AddRow(Markup.Escape((group.Key.Domain.Length == 0 ? "" : group.Key.Domain + "::") + group.Key.OpType), group.Count().ToString(), supported ? "yes" : "[red]no[/]");
            }
            AnsiConsole.Write(histogram);
        });

    private static string TypeOf(Backprop.Onnx.Proto.ValueInfoProto v)
    {
        var t = v.Type?.TensorType;
        if (t is null) return "?";
        var dims = t.Shape?.Dim.Select(d => d.DimParam is { Length: > 0 } p ? p : d.DimValue.ToString()) ?? [];
        return $"{(Backprop.Onnx.Proto.TensorProto.Types.DataType)t.ElemType} [{string.Join(", ", dims)}]".ToLowerInvariant();
    }
}
