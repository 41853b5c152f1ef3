using System.Globalization;
using Backprop.Onnx;
using Backprop.Onnx.Proto;
using Backprop.Training;
using Google.Protobuf;
using Spectre.Console.Cli;

namespace Backprop.Cli.Commands;

/// <summary>
/// Hidden: writes checkpoints and ONNX exports in a loop until killed, each generation filled with its own number, so a
/// test can kill it at random points and check that what is left under the target names is always one complete generation.
/// </summary>
internal sealed class CrashWriterCommand : Command<CrashWriterCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--dir <DIR>")]
        public string Dir { get; init; } = "";

        [CommandOption("--values <N>")]
        public int Values { get; init; } = 1 << 20;
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(s.Dir);
        var start = File.Exists(Path.Combine(s.Dir, "latest.bpck")) ? long.Parse(Checkpoint.Load(Path.Combine(s.Dir, "latest.bpck")).Metadata["generation"], CultureInfo.InvariantCulture) + 1 : 1;
        for (var generation = start; !cancellationToken.IsCancellationRequested; generation++)
        {
            var values = Tensor.Full(new Shape(s.Values), generation);
            Checkpoint.Save(Path.Combine(s.Dir, "latest.bpck"), new CheckpointData(
                new Dictionary<string, Tensor> { ["w"] = values, ["step"] = Tensor.FromArray([generation], 1) },
                new Dictionary<string, string> { ["generation"] = generation.ToString(CultureInfo.InvariantCulture) }));
            var graph = new GraphProto { Name = "g" + generation };
            graph.Initializer.Add(TensorConverter.ToProto(values, "w"));
            graph.Output.Add(new ValueInfoProto { Name = "w" });
            var model = new ModelProto { IrVersion = 8, Graph = graph, ProducerName = "crash-writer" };
            model.OpsetImport.Add(new OperatorSetIdProto { Version = 17 });
            AtomicFile.Write(Path.Combine(s.Dir, "model.onnx"), stream => model.WriteTo(stream));
            Console.WriteLine(generation.ToString(CultureInfo.InvariantCulture));
        }
        return 0;
    }
}
