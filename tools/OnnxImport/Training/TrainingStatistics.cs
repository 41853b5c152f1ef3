using System.Globalization;
using System.Text;
using Backprop.Diagnostics;
using Backprop.Runtime;
using Backprop.Training;

namespace Backprop.Onnx;

/// <summary>One recorded figure: at optimizer step <see cref="Step"/>, <see cref="Kind"/> of tensor or node <see cref="Name"/>.</summary>
/// <param name="Step">Optimizer step (1-based).</param>
/// <param name="Kind"><c>grad_norm</c> (‖∇‖ of a parameter), <c>update_ratio</c> (‖Δw‖ / ‖w‖ of the step) or <c>dead_relu</c> (fraction of a ReLU's outputs that are zero).</param>
/// <param name="Name">Parameter or node name.</param>
/// <param name="Value">The figure.</param>
public sealed record StatisticsRow(long Step, string Kind, string Name, double Value);

/// <summary>
/// Gradient statistics recorded while fine-tuning, every <see cref="Every"/> optimizer steps: per-parameter gradient norms
/// (before clipping), update-to-weight ratios ‖Δw‖/‖w‖, and the fraction of dead (zero) outputs of every ReLU node,
/// averaged over the step's micro-batches. Rows are appended to a CSV as they are recorded, so a crash loses at most one
/// step; a resumed run drops rows after the step it resumes from and carries on.
/// </summary>
public sealed class TrainingStatistics : IDisposable
{
    /// <summary>The CSV header.</summary>
    public const string Header = "step,kind,name,value";

    private readonly List<StatisticsRow> _rows = [];
    private readonly Dictionary<string, (double Sum, int Count)> _dead = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tensor> _before = new(StringComparer.Ordinal);
    private TrainableModel? _model;
    private IDisposable? _forward;
    private StreamWriter? _csv;
    private bool _armed;

    /// <summary>Records every <paramref name="every"/> optimizer steps, appending to <paramref name="csvPath"/> when given.</summary>
    public TrainingStatistics(int every, string? csvPath = null)
    {
        if (every < 1) throw new ArgumentOutOfRangeException(nameof(every), every, "statistics are recorded every N ≥ 1 steps.");
        Every = every;
        CsvPath = csvPath is null ? null : Path.GetFullPath(csvPath);
    }

    /// <summary>Steps between records.</summary>
    public int Every { get; }

    /// <summary>The CSV file rows are appended to, or null.</summary>
    public string? CsvPath { get; }

    /// <summary>Every row recorded (including rows kept from an earlier run's CSV when resuming).</summary>
    public IReadOnlyList<StatisticsRow> Rows => _rows;

    /// <summary>Reads a statistics CSV; malformed lines raise <see cref="FormatException"/> naming the line.</summary>
    public static List<StatisticsRow> ReadCsv(string path)
    {
        var rows = new List<StatisticsRow>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            if (lineNumber++ == 0 || line.Length == 0) continue;
            var first = line.IndexOf(',');
            var second = first < 0 ? -1 : line.IndexOf(',', first + 1);
            var last = line.LastIndexOf(',');
            if (second < 0 || last <= second
                || !long.TryParse(line.AsSpan(0, first), NumberStyles.Integer, CultureInfo.InvariantCulture, out var step)
                || !double.TryParse(line.AsSpan(last + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                throw new FormatException($"{path}:{lineNumber}: expected '{Header}', got '{line}'.");
            rows.Add(new StatisticsRow(step, line[(first + 1)..second], Unquote(line[(second + 1)..last]), value));
        }
        return rows;
    }

    /// <summary>Attaches to <paramref name="model"/>; rows after <paramref name="resumedStep"/> in an existing CSV are dropped.</summary>
    internal void Start(TrainableModel model, long resumedStep)
    {
        _model = model;
        _forward = model.Model.OnForward(ObserveNode);
        if (CsvPath is null) return;
        Directory.CreateDirectory(Path.GetDirectoryName(CsvPath)!);
        if (resumedStep > 0 && File.Exists(CsvPath)) _rows.AddRange(ReadCsv(CsvPath).Where(r => r.Step <= resumedStep));
        var text = new StringBuilder(Header).Append('\n');
        foreach (var r in _rows) Append(text, r);
        AtomicFile.Write(CsvPath, s => s.Write(Encoding.UTF8.GetBytes(text.ToString())));
        _csv = new StreamWriter(new FileStream(CsvPath, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false));
    }

    /// <summary>Called before the forward passes of optimizer step <paramref name="step"/>.</summary>
    internal void BeginStep(long step)
    {
        _armed = step % Every == 0;
        _dead.Clear();
    }

    /// <summary>Called once the step's gradients are complete, before clipping and the update.</summary>
    internal void BeforeUpdate(long step)
    {
        if (!_armed || _model is null) return;
        using var _ = GradMode.NoGrad();
        foreach (var (name, p) in InModelOrder())
        {
            Add(step, "grad_norm", name, p.Grad is { } g ? TensorStats.Of(g).Norm : 0);
            _before[name] = p.Clone();
        }
        foreach (var (node, (sum, count)) in _dead) Add(step, "dead_relu", node, sum / count);
    }

    /// <summary>Called after the optimizer step.</summary>
    internal void AfterUpdate(long step)
    {
        if (!_armed || _model is null) return;
        using (GradMode.NoGrad())
        {
            foreach (var (name, p) in InModelOrder())
            {
                if (!_before.Remove(name, out var old)) continue;
                var weight = TensorStats.Of(old).Norm;
                var delta = TensorStats.Of(Ops.Sub(p, old)).Norm;
                Add(step, "update_ratio", name, weight > 0 ? delta / weight : delta);
            }
        }
        _csv?.Flush();
        _armed = false;
    }

    /// <summary>Trainable tensors in the order the graph first reads them (input side first; the head last).</summary>
    private IEnumerable<KeyValuePair<string, Tensor>> InModelOrder()
    {
        if (_firstUse is null)
        {
            _firstUse = new Dictionary<string, int>(StringComparer.Ordinal);
            var index = 0;
            foreach (var (node, _) in _model!.Model.Plan.Nodes)
            {
                foreach (var input in node.Input) _firstUse.TryAdd(input, index);
                index++;
            }
        }
        return _model!.Parameters.OrderBy(p => _firstUse.GetValueOrDefault(p.Key, int.MaxValue));
    }

    private Dictionary<string, int>? _firstUse;

    private void ObserveNode(NodeActivity a)
    {
        if (!_armed || a.OpType != "Relu" || a.Outputs.Count == 0 || a.Outputs[0].Value is not { } y) return;
        var zero = TensorStats.Of(y).ZeroFraction;
        _dead[a.Node] = _dead.TryGetValue(a.Node, out var s) ? (s.Sum + zero, s.Count + 1) : (zero, 1);
    }

    private void Add(long step, string kind, string name, double value)
    {
        var row = new StatisticsRow(step, kind, name, value);
        _rows.Add(row);
        if (_csv is null) return;
        var line = new StringBuilder();
        Append(line, row);
        _csv.Write(line.ToString());
    }

    private static void Append(StringBuilder sb, StatisticsRow r) =>
        sb.Append(r.Step.ToString(CultureInfo.InvariantCulture)).Append(',').Append(r.Kind).Append(',').Append(Quote(r.Name)).Append(',')
            .Append(r.Value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');

    private static string Quote(string s) => s.IndexOfAny([',', '"', '\n']) < 0 ? s : "\"" + s.Replace("\"", "\"\"") + "\"";

    private static string Unquote(string s) => s.Length >= 2 && s[0] == '"' && s[^1] == '"' ? s[1..^1].Replace("\"\"", "\"") : s;

    /// <summary>Detaches from the model and closes the CSV.</summary>
    public void Dispose()
    {
        _forward?.Dispose();
        _forward = null;
        _csv?.Dispose();
        _csv = null;
    }
}
