using System.ComponentModel;
using Backprop.Cli.Training;
using Backprop.Data;
using Backprop.Onnx;
using Backprop.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Backprop.Cli.Commands;

/// <summary>`backprop finetune MODEL --data … [--head N] …`: fine-tunes an ONNX model and exports it back to ONNX.</summary>
internal sealed class FineTuneCommand : Command<FineTuneCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<MODEL>")]
        [Description("Path to an .onnx model.")]
        public string Model { get; init; } = "";

        [CommandOption("-d|--data <PATH>")]
        [Description("Training data: an image folder (one sub-folder per class), a .npz with arrays x and y, 'x.npy,y.npy', or a .csv (last column or --target is the label).")]
        public string Data { get; init; } = "";

        [CommandOption("--target <COLUMN>")]
        [Description("CSV: the label column's header name (default: the last column).")]
        public string? Target { get; init; }

        [CommandOption("--regression")]
        [Description("Float targets and MSE loss instead of class labels and cross-entropy.")]
        public bool Regression { get; init; }

        [CommandOption("--head <CLASSES>")]
        [Description("Append a new linear head with this many classes (its logits become the output).")]
        public int? Head { get; init; }

        [CommandOption("--head-on <VALUE>")]
        [Description("The model value the head reads (default: the model's first output).")]
        public string? HeadOn { get; init; }

        [CommandOption("--freeze <GLOB>")]
        [Description("Freeze parameters whose name matches (* and ?; repeatable).")]
        public string[] Freeze { get; init; } = [];

        [CommandOption("--freeze-bn")]
        [Description("Keep BatchNormalization on its running statistics while training (small batches, unusual data).")]
        public bool FreezeBatchNorm { get; init; }

        [CommandOption("--epochs <N>")]
        public int Epochs { get; init; } = 3;

        [CommandOption("--lr <RATE>")]
        public double LearningRate { get; init; } = 0.01;

        [CommandOption("--head-lr <RATE>")]
        [Description("Learning rate of the new head (default: --lr).")]
        public double? HeadLearningRate { get; init; }

        [CommandOption("--optimizer <NAME>")]
        [Description("sgd (momentum 0.9), adam or adamw.")]
        public string Optimizer { get; init; } = "sgd";

        [CommandOption("--momentum <M>")]
        public double Momentum { get; init; } = 0.9;

        [CommandOption("--weight-decay <W>")]
        public double WeightDecay { get; init; }

        [CommandOption("--schedule <NAME>")]
        [Description("constant, cosine or step.")]
        public string Schedule { get; init; } = "constant";

        [CommandOption("--warmup <STEPS>")]
        public int Warmup { get; init; }

        [CommandOption("--clip <NORM>")]
        [Description("Clip gradients to this global L2 norm.")]
        public double? Clip { get; init; }

        [CommandOption("--accumulate <N>")]
        [Description("Sum gradients over N batches per optimizer step.")]
        public int Accumulate { get; init; } = 1;

        [CommandOption("--label-smoothing <EPS>")]
        public double LabelSmoothing { get; init; }

        [CommandOption("--batch <N>")]
        public int Batch { get; init; } = 8;

        [CommandOption("--validation <FRACTION>")]
        [Description("Share of the data held out for validation (stratified by class).")]
        public double Validation { get; init; } = 0.2;

        [CommandOption("--image-size <PIXELS>")]
        public int ImageSize { get; init; } = 224;

        [CommandOption("--seed <N>")]
        public ulong Seed { get; init; }

        [CommandOption("-o|--out <FILE>")]
        [Description("The fine-tuned model (default tuned.onnx); the chart goes beside it as .png.")]
        public string Out { get; init; } = "tuned.onnx";

        [CommandOption("--fixed-batch")]
        [Description("Keep the model's declared batch size on export (default: symbolic batch).")]
        public bool FixedBatch { get; init; }

        [CommandOption("--checkpoint <DIR>")]
        [Description("Write latest.bpck here after every epoch (atomically).")]
        public string? Checkpoint { get; init; }

        [CommandOption("--checkpoint-every <STEPS>")]
        public int CheckpointEvery { get; init; }

        [CommandOption("--resume")]
        [Description("Continue from the checkpoint in --checkpoint.")]
        public bool Resume { get; init; }

        [CommandOption("--stats <EVERY>")]
        [Description("Record gradient norms, update-to-weight ratios and dead-ReLU fractions every EVERY steps into OUT.stats.csv, charted as OUT.*.png.")]
        public int? Stats { get; init; }

        [CommandOption("-p|--plugin <PATH>")]
        public string[] Plugins { get; init; } = [];
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken) =>
        CliErrors.Guard(() =>
        {
            if (string.IsNullOrEmpty(s.Data)) throw new CliException("--data PATH is required.");
            Runtime.Use(s.Plugins);
            var data = Load(s);
            var (train, validation) = s.Validation > 0 ? DataLoader.Split(data, s.Validation, s.Seed) : (new Subset(data, Enumerable.Range(0, data.Count).ToArray()), null);
            AnsiConsole.MarkupLine($"data: {train.Count} training, {validation?.Count ?? 0} validation samples{(data.ClassNames is { } c ? $", {c.Count} classes" : "")}");
            var model = new TrainableModel(OnnxModel.Load(s.Model));
            var options = new FineTuneOptions
            {
                Epochs = s.Epochs, BatchSize = s.Batch, AccumulationSteps = s.Accumulate, Optimizer = s.Optimizer, LearningRate = s.LearningRate,
                HeadLearningRate = s.HeadLearningRate, Momentum = s.Momentum, WeightDecay = s.WeightDecay, Schedule = s.Schedule, WarmupSteps = s.Warmup,
                FreezeBatchNorm = s.FreezeBatchNorm, ClipNorm = s.Clip, LabelSmoothing = s.LabelSmoothing, Seed = s.Seed, CheckpointDirectory = s.Checkpoint, CheckpointEvery = s.CheckpointEvery, Resume = s.Resume,
            };
            if (s.Head is { } classes)
            {
                var sample = new Dictionary<string, Tensor> { [model.Model.Inputs.Single().Name] = data.Batch([0]).Inputs };
                var head = model.AddHead(classes, sample, new TrainingRandom(s.Seed ^ 0x4EAD), s.HeadOn);
                AnsiConsole.MarkupLine($"head: {head.Classes} classes on '{Markup.Escape(head.On)}'");
            }
            foreach (var glob in s.Freeze) AnsiConsole.MarkupLine($"froze {model.Freeze(glob)} parameters matching '{Markup.Escape(glob)}'");
            AnsiConsole.MarkupLine($"trainable: {model.Parameters.Sum(p => (long)p.Value.Size):N0} values in {model.Parameters.Count()} tensors");
            var tuner = new FineTuner(model, options);
            var stem = Path.ChangeExtension(s.Out, null);
            if (s.Stats is { } every)
            {
                if (every < 1) throw new CliException($"--stats must be at least 1 (steps between records), not {every}.");
                tuner.Statistics = new TrainingStatistics(every, stem + ".stats.csv");
            }
            if (s.Resume && s.Checkpoint is { } dir && File.Exists(Path.Combine(dir, FineTuner.LatestCheckpoint)))
                AnsiConsole.MarkupLine($"resuming from {Markup.Escape(Path.Combine(dir, FineTuner.LatestCheckpoint))}");
            TrainingConsole.Fit(tuner, train, validation, cancellationToken);
            TrainingConsole.PrintProfile();
            model.Export(s.Out, dynamicBatch: !s.FixedBatch);
            var chart = Path.ChangeExtension(s.Out, ".png");
            TrainingChart.Write(chart, tuner.StepLosses, tuner.History);
            AnsiConsole.MarkupLine($"wrote [green]{Markup.Escape(s.Out)}[/] and [green]{Markup.Escape(chart)}[/]");
            if (tuner.Statistics is { } stats)
            {
                var charts = StatisticsChart.Write(stem, stats.Rows);
                AnsiConsole.MarkupLine($"gradient statistics: [green]{Markup.Escape(stats.CsvPath!)}[/] ({stats.Rows.Count} rows), {string.Join(", ", charts.Select(c => $"[green]{Markup.Escape(c)}[/]"))}");
            }
        });

    private static IDataset Load(Settings s)
    {
        if (Directory.Exists(s.Data)) return new ImageFolder(s.Data, s.ImageSize);
        var ext = Path.GetExtension(s.Data.Split(',')[0]).ToLowerInvariant();
        return ext switch
        {
            ".csv" => Datasets.FromCsv(s.Data, s.Target, s.Regression),
            ".npz" or ".npy" => Datasets.FromNumpy(s.Data),
            _ => throw new CliException($"--data '{s.Data}': expected an image folder, .npz, 'x.npy,y.npy' or .csv."),
        };
    }
}
