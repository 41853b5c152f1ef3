using Backprop.Data;
using Backprop.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Backprop.Onnx.Tests;

/// <summary>`backprop finetune` end to end on NumPy data: export, chart, checkpoint, resume, and one-line errors.</summary>
public class FineTuneCommandTests
{
    private static string Model => Path.Combine(TestData.RepoRoot, "tests", "fixtures", "training", "mlp_bn.onnx");

    private static (string X, string Y) Data(string dir)
    {
        var rng = new TrainingRandom(4);
        var (n, x, y) = (60, new float[60 * 6], new long[60]);
        for (var i = 0; i < n; i++)
        {
            y[i] = i % 3;
            for (var k = 0; k < 6; k++) x[i * 6 + k] = (float)((k % 3 == y[i] ? 1.5 : 0) + rng.NextDouble() - 0.5);
        }
        var (px, py) = (Path.Combine(dir, "x.npy"), Path.Combine(dir, "y.npy"));
        Npy.Save(px, new Tensor(x, new Shape(n, 6)));
        Npy.Save(py, new Tensor(y, new Shape(n)));
        return (px, py);
    }

    [Fact]
    public async Task Finetune_exports_a_model_onnx_runtime_runs_writes_a_chart_and_resumes()
    {
        var dir = TestData.Temp();
        var (x, y) = Data(dir);
        var tuned = Path.Combine(dir, "tuned.onnx");
        var common = new[] { Model, "--data", $"{x},{y}", "--optimizer", "adamw", "--lr", "0.02", "--batch", "8", "--seed", "5", "--checkpoint", Path.Combine(dir, "ck"), "--out", tuned };
        var (exit, stdout, stderr) = await Tool.Run(TimeSpan.FromMinutes(5), ["finetune", .. common, "--epochs", "2"]);
        Assert.True(exit == 0, $"finetune exited {exit}:\n{stdout}\n{stderr}");
        Assert.Contains("epoch 2", stdout);
        Assert.True(File.Exists(Path.Combine(dir, "tuned.png")));
        Assert.True(File.Exists(Path.Combine(dir, "ck", FineTuner.LatestCheckpoint)));
        using (var session = new InferenceSession(tuned))
        {
            using var result = session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(new float[5 * 6], [5, 6]))]);
            Assert.Equal(15, result.Single().AsTensor<float>().Length); // symbolic batch: 5 rows, 3 classes
        }

        (exit, stdout, stderr) = await Tool.Run(TimeSpan.FromMinutes(5), ["finetune", .. common, "--epochs", "3", "--resume"]);
        Assert.True(exit == 0, $"resumed finetune exited {exit}:\n{stdout}\n{stderr}");
        Assert.Contains("resuming", stdout);
        Assert.Contains("epoch 3", stdout);
        Assert.DoesNotContain("epoch 1 ", stdout);
    }

    [Fact]
    public async Task Stats_write_a_csv_and_charts_beside_the_model()
    {
        var dir = TestData.Temp();
        var (x, y) = Data(dir);
        var tuned = Path.Combine(dir, "tuned.onnx");
        var (exit, stdout, stderr) = await Tool.Run(TimeSpan.FromMinutes(5), "finetune", Model, "--data", $"{x},{y}", "--epochs", "1", "--batch", "8",
            "--validation", "0", "--stats", "2", "--out", tuned);
        Assert.True(exit == 0, $"finetune exited {exit}:\n{stdout}\n{stderr}");
        var rows = TrainingStatistics.ReadCsv(Path.Combine(dir, "tuned.stats.csv"));
        // 60 samples in batches of 8: 8 steps, recorded at 2, 4, 6, 8, for every trainable tensor
        var trainable = new TrainableModel(OnnxModel.Load(Model)).Parameters.Count();
        Assert.Equal([2L, 4L, 6L, 8L], rows.Select(r => r.Step).Distinct());
        Assert.Equal(4 * trainable, rows.Count(r => r.Kind == "grad_norm"));
        Assert.Equal(4 * trainable, rows.Count(r => r.Kind == "update_ratio"));
        Assert.DoesNotContain(rows, r => r.Kind == "dead_relu"); // this model has no ReLU
        foreach (var chart in new[] { "tuned.grad-norms.png", "tuned.update-ratios.png" })
        {
            var png = File.ReadAllBytes(Path.Combine(dir, chart));
            Assert.Equal(900, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16, 4)));
            Assert.Equal(500, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20, 4)));
        }
        Assert.False(File.Exists(Path.Combine(dir, "tuned.dead-relu.png")));
    }

    [Theory]
    [InlineData("missing --data", "finetune", "MODEL")]
    [InlineData("unknown optimizer", "finetune", "MODEL", "--data", "DATA", "--optimizer", "rmsprop")]
    [InlineData("missing data file", "finetune", "MODEL", "--data", "/nonexistent/x.npz")]
    [InlineData("statistics every 0 steps", "finetune", "MODEL", "--data", "DATA", "--stats", "0")]
    public async Task Bad_arguments_end_with_one_line_and_a_non_zero_exit(string what, params string[] args)
    {
        var dir = TestData.Temp();
        var (x, y) = Data(dir);
        var resolved = args.Select(a => a == "MODEL" ? Model : a == "DATA" ? $"{x},{y}" : a).ToArray();
        var (exit, _, stderr) = await Tool.Run(TimeSpan.FromMinutes(2), resolved);
        Assert.True(exit != 0, what);
        Assert.StartsWith("backprop: ", stderr.Trim());
        Assert.Single(stderr.Trim().Split('\n'));
    }
}
