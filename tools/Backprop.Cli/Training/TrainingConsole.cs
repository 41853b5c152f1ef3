using System.Globalization;
using Backprop.Onnx;
using Backprop.Training;
using Spectre.Console;

namespace Backprop.Cli.Training;

/// <summary>Runs a <see cref="FineTuner"/> with a live progress bar (epoch, step, loss, samples/s, ETA) and a table row per epoch.</summary>
internal static class TrainingConsole
{
    public static void Fit(FineTuner tuner, IDataset train, IDataset? validation, CancellationToken cancellation)
    {
        var batches = DataLoader.BatchCount(train, tuner.Options.BatchSize);
        var total = batches * tuner.Options.Epochs;
        var epochs = new List<EpochReport>();
        tuner.OnEpoch = r =>
        {
            epochs.Add(r);
            AnsiConsole.MarkupLine(Describe(r));
        };
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            var every = Math.Max(1, batches / 4);
            tuner.OnStep = s =>
            {
                if (s.Batch % every == 0 || s.Batch == s.Batches)
                    AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"  epoch {s.Epoch} batch {s.Batch}/{s.Batches}  step {s.Step}  loss {s.Loss:F4}  {s.SamplesPerSecond:F1} samples/s");
            };
            tuner.Fit(train, validation, cancellation);
            return;
        }
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("starting", maxValue: total);
                tuner.OnStep = s =>
                {
                    task.Value = (s.Epoch - 1) * batches + s.Batch;
                    task.Description = string.Create(CultureInfo.InvariantCulture, $"epoch {s.Epoch}/{tuner.Options.Epochs} step {s.Step} loss {s.Loss:F4} {s.SamplesPerSecond:F1}/s");
                };
                tuner.Fit(train, validation, cancellation);
                task.Value = total;
            });
    }

    /// <summary>With BACKPROP_PROFILE=1, prints where the time went (per op, forward and backward).</summary>
    public static void PrintProfile()
    {
        if (!Backprop.Runtime.Profiler.Enabled) return;
        var table = new Table().AddColumns("op", "calls", "ms");
        foreach (var (name, calls, ms) in Backprop.Runtime.Profiler.Report().Take(25))
            table.AddRow(Markup.Escape(name), calls.ToString(CultureInfo.InvariantCulture), ms.ToString("F0", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
    }

    public static string Describe(EpochReport r) => string.Create(CultureInfo.InvariantCulture,
        $"[bold]epoch {r.Epoch}[/]  train loss {r.TrainLoss:F4}{(double.IsNaN(r.TrainAccuracy) ? "" : $" acc {r.TrainAccuracy:P1}")}  " +
        $"{(double.IsNaN(r.ValidationLoss) ? "" : $"validation loss {r.ValidationLoss:F4}")}{(double.IsNaN(r.ValidationAccuracy) ? "" : $" acc {r.ValidationAccuracy:P1}")}  {r.SamplesPerSecond:F1} samples/s");
}
