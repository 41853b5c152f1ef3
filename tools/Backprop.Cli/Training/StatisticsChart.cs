using Backprop.Onnx;
using ScottPlot;

namespace Backprop.Cli.Training;

/// <summary>
/// Charts of the gradient statistics of a run, one PNG per kind (900×500): per-parameter gradient norms and update-to-weight
/// ratios on a log scale, and the dead fraction of each ReLU. Lines are coloured from the first (dark) to the last (light)
/// tensor in the model, so depth reads at a glance; with ten or fewer lines a legend names them.
/// </summary>
internal static class StatisticsChart
{
    private static readonly (string Kind, string Suffix, string Title, string Axis, bool Log)[] Kinds =
    [
        ("grad_norm", "grad-norms", "Gradient norm per parameter", "log₁₀ ‖∇w‖", true),
        ("update_ratio", "update-ratios", "Update-to-weight ratio ‖Δw‖/‖w‖ per step", "log₁₀ ‖Δw‖ / ‖w‖", true),
        ("dead_relu", "dead-relu", "Dead (zero) ReLU outputs", "fraction of outputs", false),
    ];

    /// <summary>Writes <c>{stem}.{kind}.png</c> for each kind with rows; returns the files written.</summary>
    public static List<string> Write(string stem, IReadOnlyList<StatisticsRow> rows)
    {
        var written = new List<string>();
        foreach (var (kind, suffix, title, axis, log) in Kinds)
        {
            var series = rows.Where(r => r.Kind == kind).GroupBy(r => r.Name).ToList();
            if (series.Count == 0) continue;
            var plot = new Plot();
            plot.Title(title);
            plot.XLabel("optimizer step");
            plot.YLabel(axis);
            var colormap = new ScottPlot.Colormaps.Viridis();
            for (var i = 0; i < series.Count; i++)
            {
                var points = series[i].Where(r => !log || r.Value > 0).OrderBy(r => r.Step).ToArray();
                if (points.Length == 0) continue;
                var line = plot.Add.Scatter(points.Select(r => (double)r.Step).ToArray(), points.Select(r => log ? Math.Log10(r.Value) : r.Value).ToArray());
                line.Color = colormap.GetColor(series.Count == 1 ? 0 : 0.9 * i / (series.Count - 1));
                line.MarkerSize = points.Length == 1 ? 5 : 0;
                line.LineWidth = 1.2f;
                if (series.Count <= 10) line.LegendText = series[i].Key;
            }
            if (series.Count <= 10) plot.ShowLegend(Alignment.UpperRight);
            else plot.Title($"{title}: {series.Count} tensors, dark = near the input, light = near the output");
            if (!log) plot.Axes.SetLimitsY(0, 1);
            var path = $"{stem}.{suffix}.png";
            var bytes = plot.GetImageBytes(TrainingChart.Width, TrainingChart.Height, ImageFormat.Png);
            Backprop.Training.AtomicFile.Write(Path.GetFullPath(path), s => s.Write(bytes));
            written.Add(path);
        }
        return written;
    }
}
