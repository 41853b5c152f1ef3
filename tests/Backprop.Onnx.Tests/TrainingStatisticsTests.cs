using Backprop.Onnx.Proto;
using Backprop.Training;
using static Backprop.Onnx.Tests.TestData;

namespace Backprop.Onnx.Tests;

/// <summary>
/// `FineTuner.Statistics`: dead-ReLU fractions known by construction, update-to-weight ratios that agree with plain SGD's
/// Δw = −lr·∇w, a CSV that reads back exactly, and a resumed run that neither loses nor repeats steps.
/// </summary>
public class TrainingStatisticsTests
{
    private const double LearningRate = 0.1;

    /// <summary>
    /// x[N,4] → MatMul W1[4,6] → Add b1 → Relu → MatMul W2[6,3] → Add b2. Inputs are positive and W1's first three columns are
    /// positive, its last three negative (b1 follows the same signs), so at the first step exactly half the ReLU outputs are 0.
    /// </summary>
    private static ModelProto Model()
    {
        var w1 = new float[24];
        for (var r = 0; r < 4; r++)
        {
            for (var c = 0; c < 6; c++) w1[r * 6 + c] = (c < 3 ? 1 : -1) * (0.2f + 0.05f * (r + c));
        }
        var w2 = Enumerable.Range(0, 18).Select(i => 0.1f * ((i * 7 % 5) - 2)).ToArray();
        var g = new GraphProto { Name = "relu_mlp" };
        g.Input.Add(Value("x", TensorProto.Types.DataType.Float, 8, 4));
        g.Output.Add(Value("out", TensorProto.Types.DataType.Float, 8, 3));
        g.Initializer.Add(FloatTensor("W1", w1, 4, 6));
        g.Initializer.Add(FloatTensor("b1", [0.01f, 0.01f, 0.01f, -0.01f, -0.01f, -0.01f], 6));
        g.Initializer.Add(FloatTensor("W2", w2, 6, 3));
        g.Initializer.Add(FloatTensor("b2", [0.1f, -0.1f, 0.05f], 3));
        g.Node.Add(Node("MatMul", ["x", "W1"], ["h"], "fc1"));
        g.Node.Add(Node("Add", ["h", "b1"], ["hb"], "fc1_bias"));
        g.Node.Add(Node("Relu", ["hb"], ["r"], "relu1"));
        g.Node.Add(Node("MatMul", ["r", "W2"], ["o"], "fc2"));
        g.Node.Add(Node("Add", ["o", "b2"], ["out"], "fc2_bias"));
        return TestData.Model(g);
    }

    private static TensorDataset Data()
    {
        var rng = new TrainingRandom(3);
        var x = Enumerable.Range(0, 32 * 4).Select(_ => (float)(0.5 + rng.NextDouble())).ToArray();
        var y = Enumerable.Range(0, 32).Select(i => (long)(i % 3)).ToArray();
        return new TensorDataset(new Tensor(x, new Shape(32, 4)), new Tensor(y, new Shape(32)), ["a", "b", "c"]);
    }

    private static FineTuner Tuner(string? checkpoint, int epochs, bool resume, TrainingStatistics stats) =>
        new(new TrainableModel(OnnxModel.FromProto(Model())), new FineTuneOptions
        {
            Epochs = epochs, BatchSize = 8, LearningRate = LearningRate, Momentum = 0, Seed = 9, CheckpointDirectory = checkpoint, Resume = resume,
        })
        { Statistics = stats };

    private static double Norm(Tensor t) => Math.Sqrt(t.ToDoubleArray().Sum(v => v * v));

    [Fact]
    public void First_step_figures_follow_from_the_construction_and_from_sgd()
    {
        var dir = Temp();
        var stats = new TrainingStatistics(1, Path.Combine(dir, "stats.csv"));
        var tuner = Tuner(null, 1, false, stats);
        var initial = tuner.Model.Parameters.ToDictionary(p => p.Key, p => Norm(p.Value));
        tuner.Fit(Data());

        var first = stats.Rows.Where(r => r.Step == 1).ToList();
        Assert.Equal(0.5, first.Single(r => r.Kind == "dead_relu").Value);
        Assert.Equal("relu1", first.Single(r => r.Kind == "dead_relu").Name);
        // plain SGD: ‖Δw‖ = lr·‖∇w‖, so update_ratio = lr · grad_norm / ‖w‖
        foreach (var name in new[] { "W1", "b1", "W2", "b2" })
        {
            var grad = first.Single(r => r.Kind == "grad_norm" && r.Name == name).Value;
            var ratio = first.Single(r => r.Kind == "update_ratio" && r.Name == name).Value;
            Assert.True(grad > 0, $"{name}: no gradient recorded");
            var expected = LearningRate * grad / initial[name];
            Assert.True(Math.Abs(ratio - expected) <= 1e-5 * expected, $"{name}: update ratio {ratio}, SGD gives {expected}");
        }
        // parameters in the order the graph reads them
        Assert.Equal(["W1", "b1", "W2", "b2"], first.Where(r => r.Kind == "grad_norm").Select(r => r.Name));
        Assert.Equal(4, stats.Rows.Max(r => r.Step));
        Assert.Equal(stats.Rows, TrainingStatistics.ReadCsv(stats.CsvPath!));
    }

    [Fact]
    public void A_resumed_run_keeps_the_earlier_rows_and_repeats_no_step()
    {
        var dir = Temp();
        var csv = Path.Combine(dir, "stats.csv");
        var checkpoint = Path.Combine(dir, "ck");
        var firstRun = new TrainingStatistics(2, csv);
        Tuner(checkpoint, 1, false, firstRun).Fit(Data());
        var before = TrainingStatistics.ReadCsv(csv);
        Assert.Equal([2L, 4L], before.Select(r => r.Step).Distinct());
        File.AppendAllText(csv, "6,grad_norm,W1,1\n"); // a row of a step the checkpoint does not cover (a crash after it)

        var resumed = new TrainingStatistics(2, csv);
        Tuner(checkpoint, 2, true, resumed).Fit(Data());
        var rows = TrainingStatistics.ReadCsv(csv);
        Assert.Equal([2L, 4L, 6L, 8L], rows.Select(r => r.Step).Distinct());
        Assert.Equal(before, rows.Where(r => r.Step <= 4));
        Assert.Equal(9, rows.Count(r => r.Step == 6)); // 4 grad norms, 4 ratios, 1 ReLU: the stray row is gone
    }

    [Fact]
    public void A_malformed_csv_names_the_line()
    {
        var path = Path.Combine(Temp(), "bad.csv");
        File.WriteAllText(path, TrainingStatistics.Header + "\n1,grad_norm,W1,0.5\nnot a row\n");
        var e = Assert.Throws<FormatException>(() => TrainingStatistics.ReadCsv(path));
        Assert.Contains(":3:", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingStatistics(0));
    }
}
