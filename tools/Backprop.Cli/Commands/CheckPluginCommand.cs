using System.ComponentModel;
using System.Globalization;
using Backprop.Testing;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Backprop.Cli.Commands;

/// <summary>
/// `backprop check-plugin PATH.dll`: loads a plugin beside the standard ops and runs the conformance kit (gradient, JVP,
/// VJP/JVP identity, second order or the once-differentiable error) on every op it registers; a table per op, non-zero
/// exit on any failure.
/// </summary>
internal sealed class CheckPluginCommand : Command<CheckPluginCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<PLUGIN>")]
        [Description("The plugin assembly (.dll) or its folder.")]
        public string Plugin { get; init; } = "";

        [CommandOption("--seed <N>")]
        [Description("Seed of the random samples and directions (default 1234, as the kit).")]
        public int Seed { get; init; } = 1234;
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var failed = false;
        var code = CliErrors.Guard(() =>
        {
            if (!File.Exists(s.Plugin) && !Directory.Exists(s.Plugin)) throw new CliException($"'{s.Plugin}' does not exist.");
            var (rt, ops) = PluginConformance.Load(s.Plugin);
            foreach (var f in rt.PluginFailures) AnsiConsole.MarkupLine($"[yellow]plugin failed[/] {Markup.Escape(f.ToString())}");
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(Path.GetFileName(Path.GetFullPath(s.Plugin)))}[/]: {ops.Count} ops");
            // A table on a terminal; plain lines when redirected (logs and scripts), where a table would wrap names.
            var plain = !AnsiConsole.Profile.Capabilities.Interactive;
            var table = new Table().AddColumns("op", "order", "samples", "checks", "max error", "result");
            var failures = new List<CheckResult>();
            foreach (var op in ops)
            {
                var name = op.Schema.QualifiedName;
                var results = OpConformance.Check(rt, op, new CheckOptions { Seed = s.Seed });
                var bad = results.Where(r => !r.Passed).ToList();
                failures.AddRange(bad);
                var maxError = results.Where(r => r.Passed || r.Message is null).Select(r => r.Error).DefaultIfEmpty(0).Max();
                string[] row =
                [
                    name,
                    op.SupportsHigherOrder ? "2 (rev-rev, fwd-rev)" : "1 (once-differentiable)",
                    results.Select(r => r.Sample).Distinct().Count().ToString(CultureInfo.InvariantCulture),
                    results.Count.ToString(CultureInfo.InvariantCulture),
                    maxError.ToString("E2", CultureInfo.InvariantCulture),
                    bad.Count == 0 ? "pass" : $"FAIL ({bad.Count})",
                ];
                if (plain) Console.WriteLine($"{row[0]}  order {row[1]}  samples {row[2]}  checks {row[3]}  max error {row[4]}  {row[5]}");
                else table.AddRow(row.Select((c, i) => i < 5 ? Markup.Escape(c) : bad.Count == 0 ? "[green]pass[/]" : $"[red]{c}[/]").ToArray());
            }
            if (!plain) AnsiConsole.Write(table);
            foreach (var f in failures) AnsiConsole.MarkupLine($"[red]{Markup.Escape(f.ToString())}[/]");
            failed = failures.Count > 0;
        });
        return code != 0 ? code : failed ? 1 : 0;
    }
}
