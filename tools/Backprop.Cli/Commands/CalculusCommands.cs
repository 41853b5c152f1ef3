using System.ComponentModel;
using Backprop.Onnx;
using Backprop.Runtime;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Backprop.Cli.Commands;

/// <summary>Options shared by grad, jvp and hvp.</summary>
internal class CalculusSettings : ModelSettings
{
    [CommandOption("-o|--out <DIR>")]
    [Description("Directory for the results (one TensorProto file each, TensorProto.name set).")]
    public string Out { get; init; } = "";

    public void RequireOut()
    {
        if (string.IsNullOrEmpty(Out)) throw new CliException("--out DIR is required.");
    }
}

/// <summary>`backprop grad`: ∂L/∂t of L = Σ ⟨seed, output⟩ for every floating-point input and initializer t.</summary>
internal sealed class GradCommand : Command<GradCommand.Settings>
{
    public sealed class Settings : CalculusSettings
    {
        [CommandOption("-s|--seed <OUTPUT=FILE>")]
        [Description("Cotangent of an output (repeatable); L = Σ ⟨seed, output⟩.")]
        public string[] Seeds { get; init; } = [];
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
        CliErrors.Guard(() =>
        {
            settings.RequireOut();
            Runtime.Use(settings.Plugins);
            var model = OnnxModel.Load(settings.Model);
            var grads = ModelCalculus.Grad(model, TensorArguments.Read(settings.Inputs, "--input"), TensorArguments.Read(settings.Seeds, "--seed"));
            TensorArguments.Write(settings.Out, grads);
            AnsiConsole.MarkupLine($"wrote {grads.Count} gradients to {Markup.Escape(settings.Out)}");
        });
}

/// <summary>`backprop jvp`: forward-mode tangents of every output.</summary>
internal sealed class JvpCommand : Command<JvpCommand.Settings>
{
    public sealed class Settings : CalculusSettings
    {
        [CommandOption("-t|--tangent <NAME=FILE>")]
        [Description("Tangent of a graph input or initializer (repeatable); the rest have zero tangent.")]
        public string[] Tangents { get; init; } = [];
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
        CliErrors.Guard(() =>
        {
            settings.RequireOut();
            Runtime.Use(settings.Plugins);
            var model = OnnxModel.Load(settings.Model);
            var tangents = ModelCalculus.Jvp(model, TensorArguments.Read(settings.Inputs, "--input"), TensorArguments.Read(settings.Tangents, "--tangent"));
            TensorArguments.Write(settings.Out, tangents);
            AnsiConsole.MarkupLine($"wrote {tangents.Count} output tangents to {Markup.Escape(settings.Out)}");
        });
}

/// <summary>`backprop hvp`: Hessian-vector products of L with respect to the named tensors.</summary>
internal sealed class HvpCommand : Command<HvpCommand.Settings>
{
    public sealed class Settings : CalculusSettings
    {
        [CommandOption("-s|--seed <OUTPUT=FILE>")]
        [Description("Cotangent of an output (repeatable); L = Σ ⟨seed, output⟩.")]
        public string[] Seeds { get; init; } = [];

        [CommandOption("-d|--direction <NAME=FILE>")]
        [Description("Direction v for a graph input or initializer (repeatable).")]
        public string[] Directions { get; init; } = [];

        [CommandOption("-m|--mode <MODE>")]
        [Description("fwd-rev (default) or rev-rev.")]
        public string Mode { get; init; } = "fwd-rev";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
        CliErrors.Guard(() =>
        {
            settings.RequireOut();
            var mode = settings.Mode switch
            {
                "fwd-rev" => DiffMode.ForwardOverReverse,
                "rev-rev" => DiffMode.ReverseOverReverse,
                _ => throw new CliException($"--mode must be fwd-rev or rev-rev, not '{settings.Mode}'."),
            };
            if (settings.Directions.Length == 0) throw new CliException("at least one --direction NAME=FILE is needed.");
            Runtime.Use(settings.Plugins);
            var model = OnnxModel.Load(settings.Model);
            var hv = ModelCalculus.Hvp(model, TensorArguments.Read(settings.Inputs, "--input"), TensorArguments.Read(settings.Seeds, "--seed"),
                TensorArguments.Read(settings.Directions, "--direction"), mode);
            TensorArguments.Write(settings.Out, hv);
            AnsiConsole.MarkupLine($"wrote {hv.Count} Hessian-vector products to {Markup.Escape(settings.Out)}");
        });
}
