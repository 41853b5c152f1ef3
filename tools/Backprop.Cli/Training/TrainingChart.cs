using Backprop.Onnx;
using ScottPlot;

namespace Backprop.Cli.Training;

/// <summary>The loss/accuracy chart of a run as a PNG: loss per optimizer step, and per-epoch validation loss and accuracy.</summary>
internal static class TrainingChart
{
    public const int Width = 900;
    public const int Height = 500;

    public static void Write(string path, IReadOnlyList<double> stepLosses, IReadOnlyList<EpochReport> epochs)
    {
        var plot = new Plot();
        plot.Title("Fine-tuning");
        plot.XLabel("optimizer step");
        plot.YLabel("loss");
        if (stepLosses.Count > 0)
        {
            var steps = Enumerable.Range(1, stepLosses.Count).Select(i => (double)i).ToArray();
            var loss = plot.Add.Scatter(steps, stepLosses.ToArray());
            loss.LegendText = "training loss (step)";
            loss.MarkerSize = 0;
        }
        var stepsPerEpoch = epochs.Count == 0 ? 0 : (double)stepLosses.Count / epochs.Count;
        var validated = epochs.Where(e => !double.IsNaN(e.ValidationLoss)).ToArray();
        if (validated.Length > 0)
        {
            var vl = plot.Add.Scatter(validated.Select(e => e.Epoch * stepsPerEpoch).ToArray(), validated.Select(e => e.ValidationLoss).ToArray());
            vl.LegendText = "validation loss (epoch)";
        }
        var withAccuracy = epochs.Where(e => !double.IsNaN(e.ValidationAccuracy)).ToArray();
        if (withAccuracy.Length > 0)
        {
            var acc = plot.Add.Scatter(withAccuracy.Select(e => e.Epoch * stepsPerEpoch).ToArray(), withAccuracy.Select(e => e.ValidationAccuracy).ToArray());
            acc.LegendText = "validation accuracy (epoch, right axis)";
            acc.Axes.YAxis = plot.Axes.Right;
            plot.Axes.Right.Label.Text = "accuracy";
            plot.Axes.SetLimitsY(0, 1.05, plot.Axes.Right);
        }
        plot.ShowLegend(Alignment.UpperCenter);
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var bytes = plot.GetImageBytes(Width, Height, ImageFormat.Png);
        Backprop.Training.AtomicFile.Write(full, s => s.Write(bytes));
    }
}
