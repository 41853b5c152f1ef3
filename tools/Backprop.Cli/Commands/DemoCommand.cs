using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Backprop.Cli.Training;
using Backprop.Data;
using Backprop.Diagnostics;
using Backprop.Onnx;
using Backprop.Runtime;
using Backprop.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Backprop.Cli.Commands;

/// <summary>
/// `backprop demo`: fine-tunes the ResNet18 that ships with the tool (NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18) with a
/// new 4-class head on procedurally rendered shapes, reports validation accuracy before and after, exports the model to ONNX,
/// and checks the export under ONNX Runtime.
/// </summary>
internal sealed class DemoCommand : Command<DemoCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("-o|--out <DIR>")]
        [Description("Folder for the model, chart and checkpoint (default: demo-output).")]
        public string Out { get; init; } = "demo-output";

        [CommandOption("--train <N>")]
        [Description("Training images (default 96).")]
        public int Train { get; init; } = 96;

        [CommandOption("--validation <N>")]
        [Description("Held-out images (default 64).")]
        public int Validation { get; init; } = 64;

        [CommandOption("--epochs <N>")]
        public int Epochs { get; init; } = 3;

        [CommandOption("--batch <N>")]
        public int Batch { get; init; } = 8;

        [CommandOption("--lr <RATE>")]
        public double LearningRate { get; init; } = 0.002;

        [CommandOption("--clip <NORM>")]
        public double Clip { get; init; } = 2;

        [CommandOption("--seed <N>")]
        public ulong Seed { get; init; } = 1;

        [CommandOption("--model <PATH>")]
        [Description("Another ResNet-like .onnx (input [N,3,224,224]) instead of the bundled ResNet18.")]
        public string? Model { get; init; }
    }

    public static string BundledModel => Path.Combine(AppContext.BaseDirectory, "models", "ResNet18.onnx");

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken) =>
        CliErrors.Guard(() =>
        {
            var clock = Stopwatch.StartNew();
            Runtime.Use([]);
            var path = s.Model ?? BundledModel;
            if (!File.Exists(path)) throw new CliException($"the demo model '{path}' is missing; rebuild the tool (it is copied from the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18).");
            Directory.CreateDirectory(s.Out);
            var model = new TrainableModel(OnnxModel.Load(path));
            var input = model.Model.Inputs.Single().Name;
            // This ResNet18 (CNTK) expects 0–255 pixel values less the ImageNet mean, not unit-variance inputs.
            float[] mean = [0.485f, 0.456f, 0.406f], std = [1 / 255f, 1 / 255f, 1 / 255f];
            var train = new SyntheticShapes(s.Train, seed: s.Seed, mean: mean, std: std);
            var validation = new SyntheticShapes(s.Validation, seed: s.Seed + 1000, mean: mean, std: std);
            AnsiConsole.MarkupLine($"[bold]Backprop demo[/]: fine-tune {Markup.Escape(Path.GetFileName(path))} ({model.Model.Parameters.Sum(p => (long)p.Value.Size):N0} parameters) on rendered shapes ({string.Join(", ", train.ClassNames!)})");
            AnsiConsole.MarkupLine($"{train.Count} training and {validation.Count} validation images of 224×224; all layers trainable (BatchNorm statistics frozen); SGD momentum 0.9, lr {s.LearningRate.ToString(CultureInfo.InvariantCulture)}, batch {s.Batch}, {s.Epochs} epochs");
            model.AddHead(train.ClassNames!.Count, new Dictionary<string, Tensor> { [input] = train.Batch([0]).Inputs }, new TrainingRandom(s.Seed));
            var tuner = new FineTuner(model, new FineTuneOptions
            {
                Epochs = s.Epochs, BatchSize = s.Batch, LearningRate = s.LearningRate, Momentum = 0.9, Schedule = "cosine", Seed = s.Seed, FreezeBatchNorm = true, ClipNorm = s.Clip,
                CheckpointDirectory = Path.Combine(s.Out, "checkpoint"),
            })
            {
                Statistics = new TrainingStatistics(2, Path.Combine(s.Out, "gradients.stats.csv")),
            };
            var (_, before) = tuner.Evaluate(validation);
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"validation accuracy before fine-tuning (new head): [yellow]{before:P1}[/]");
            TrainingConsole.Fit(tuner, train, validation, cancellationToken);
            TrainingConsole.PrintProfile();
            var (_, after) = tuner.Evaluate(validation);
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"validation accuracy after fine-tuning: [green]{after:P1}[/]");
            var onnx = Path.Combine(s.Out, "resnet18-shapes.onnx");
            model.Export(onnx, dynamicBatch: true);
            var chart = Path.Combine(s.Out, "training.png");
            TrainingChart.Write(chart, tuner.StepLosses, tuner.History);
            var charts = StatisticsChart.Write(Path.Combine(s.Out, "gradients"), tuner.Statistics!.Rows);
            var picture = DrawGraph(onnx, validation, s.Out);
            AnsiConsole.MarkupLine($"gradient statistics every 2 steps: {string.Join(", ", charts.Select(c => $"[green]{Markup.Escape(c)}[/]"))}; graph: [green]{Markup.Escape(picture)}[/]");
            var (maxDiff, ortAccuracy) = Verify(onnx, model, validation, s.Batch);
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"ONNX Runtime on the exported model: accuracy {ortAccuracy:P1}, largest logit difference from Backprop {maxDiff:E2}");
            var summary = Path.Combine(s.Out, "summary.json");
            var record = new DemoSummary(before, after, ortAccuracy, maxDiff, train.Count, validation.Count, s.Epochs, tuner.History.Average(h => h.SamplesPerSecond), clock.Elapsed.TotalSeconds, onnx, chart);
            AtomicFile.Write(summary, stream => System.Text.Json.JsonSerializer.Serialize(stream, record, new System.Text.Json.JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
            AnsiConsole.MarkupLine($"wrote [green]{Markup.Escape(onnx)}[/], [green]{Markup.Escape(chart)}[/] and [green]{Markup.Escape(summary)}[/] in {clock.Elapsed.TotalSeconds:F0} s");
            if (!(maxDiff <= 1e-3)) throw new CliException($"the exported model's outputs under ONNX Runtime differ from Backprop's by {maxDiff:E2}.");
        });

    /// <summary>
    /// Draws the exported model with the gradient of the cross-entropy loss of two validation images flowing back through it:
    /// graph.svg when Graphviz is installed, graph.dot always. Returns the picture's path.
    /// </summary>
    private static string DrawGraph(string onnx, IDataset validation, string folder)
    {
        var exported = OnnxModel.Load(onnx);
        var (x, y) = validation.Batch([0, 1]);
        var inputs = new Dictionary<string, Tensor> { [exported.Inputs.Single().Name] = x };
        Tensor logits;
        using (GradMode.NoGrad()) logits = exported.Run(inputs)[exported.Outputs[0].Name];
        // ∂(mean cross-entropy)/∂logits = (softmax(logits) − onehot(label)) / batch
        var (batch, classes) = (logits.Shape[0], logits.Shape[1]);
        var p = logits.ToDoubleArray();
        var labels = y.ToInt64Array();
        var seed = new float[p.Length];
        for (var i = 0; i < batch; i++)
        {
            var row = p.AsSpan(i * classes, classes);
            var max = row.ToArray().Max();
            var sum = row.ToArray().Sum(v => Math.Exp(v - max));
            for (var k = 0; k < classes; k++) seed[i * classes + k] = (float)((Math.Exp(row[k] - max) / sum - (k == labels[i] ? 1 : 0)) / batch);
        }
        var graph = ModelGraph.Capture(exported, inputs, new Dictionary<string, Tensor> { [exported.Outputs[0].Name] = new Tensor(seed, logits.Shape) });
        graph.Title = "ResNet18 fine-tuned on shapes — gradient of the cross-entropy of two validation images";
        var dot = graph.ToDot();
        var dotPath = Path.Combine(folder, "graph.dot");
        AtomicFile.Write(dotPath, st => st.Write(System.Text.Encoding.UTF8.GetBytes(dot)));
        if (!Graphviz.IsAvailable())
        {
            AnsiConsole.MarkupLine("[yellow]Graphviz's dot is not installed (apt-get install graphviz); the graph is left as graph.dot[/]");
            return dotPath;
        }
        var svg = Path.Combine(folder, "graph.svg");
        Graphviz.Render(dot, svg);
        return svg;
    }

    /// <summary>What the demo measured, written to summary.json.</summary>
    internal sealed record DemoSummary(double AccuracyBefore, double AccuracyAfter, double OnnxRuntimeAccuracy, double MaxLogitDifference,
        int TrainImages, int ValidationImages, int Epochs, double TrainingImagesPerSecond, double Seconds, string Model, string Chart);

    /// <summary>Runs the exported model under ONNX Runtime on <paramref name="data"/>; returns the largest logit difference from Backprop's eval outputs, and ORT's accuracy.</summary>
    private static (double MaxDiff, double Accuracy) Verify(string onnx, TrainableModel model, IDataset data, int batch)
    {
        using var session = new InferenceSession(onnx, new SessionOptions { IntraOpNumThreads = Environment.ProcessorCount });
        var input = session.InputMetadata.Keys.Single();
        model.Training = false;
        var (maxDiff, correct) = (0.0, 0);
        foreach (var (x, y) in DataLoader.Batches(data, batch))
        {
            float[] ours;
            using (GradMode.NoGrad()) ours = model.Forward(x).ToFloatArray();
            using var results = session.Run([NamedOnnxValue.CreateFromTensor(input, new DenseTensor<float>(x.ToFloatArray(), x.Shape.ToArray()))]);
            var theirs = results.Single().AsTensor<float>().ToArray();
            var classes = theirs.Length / y.Shape[0];
            var labels = y.ToInt64Array();
            for (var i = 0; i < labels.Length; i++)
            {
                var best = 0;
                for (var k = 0; k < classes; k++)
                {
                    maxDiff = Math.Max(maxDiff, Math.Abs(theirs[i * classes + k] - ours[i * classes + k]));
                    if (theirs[i * classes + k] > theirs[i * classes + best]) best = k;
                }
                if (best == labels[i]) correct++;
            }
        }
        return (maxDiff, (double)correct / data.Count);
    }
}
