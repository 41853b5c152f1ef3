using System.ComponentModel;
using Backprop.Onnx;
using Backprop.Runtime;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Backprop.Cli.Commands;

/// <summary>`backprop run MODEL --input NAME=FILE … --out DIR`: evaluates the model, one TensorProto file per output.</summary>
internal sealed class RunCommand : Command<RunCommand.Settings>
{
    public sealed class Settings : ModelSettings
    {
        [CommandOption("-o|--out <DIR>")]
        [Description("Directory for the outputs (TensorProto files, TensorProto.name = output name).")]
        public string Out { get; init; } = "";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
        CliErrors.Guard(() =>
        {
            if (string.IsNullOrEmpty(settings.Out)) throw new CliException("--out DIR is required.");
            Runtime.Use(settings.Plugins);
            var model = OnnxModel.Load(settings.Model);
            var inputs = TensorArguments.Read(settings.Inputs, "--input");
            Dictionary<string, Tensor> outputs;
            using (GradMode.NoGrad()) outputs = model.Run(inputs);
            TensorArguments.Write(settings.Out, outputs);
            foreach (var (name, t) in outputs) AnsiConsole.MarkupLine($"{Markup.Escape(name)}: {t.DType} {t.Shape}");
        });
}

/// <summary>Shared runtime set-up and error handling for the commands.</summary>
internal static class Runtime
{
    public static BackpropRuntime Use(string[] plugins)
    {
        var options = new RuntimeOptions();
        options.PluginPaths.AddRange(plugins);
        var rt = BackpropRuntime.Create(options);
        foreach (var f in rt.PluginFailures) AnsiConsole.MarkupLine($"[yellow]plugin failed[/] {Markup.Escape(f.ToString())}");
        TensorRuntime.SetDefault(rt);
        return rt;
    }
}

internal static class CliErrors
{
    public static int Guard(Action action)
    {
        try
        {
            action();
            return 0;
        }
        catch (Exception e) when (e is CliException or BackpropException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            Console.Error.WriteLine($"backprop: {e.Message.Split('\n')[0]}");
            if (e is UnsupportedOpsException u) foreach (var line in u.Nodes) Console.Error.WriteLine($"  {line}");
            return 1;
        }
    }
}
