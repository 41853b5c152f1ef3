using System.Buffers.Binary;
using System.Text.Json;

namespace Backprop.Onnx.Tests;

/// <summary>The README's main command, `backprop demo`, run as a user runs it: a separate process of the built tool.</summary>
public class DemoTests
{
    [Fact]
    public async Task Demo_fine_tunes_resnet18_to_90_percent_and_exports_a_model_onnx_runtime_agrees_with()
    {
        var outDir = TestData.Temp();
        var (exit, stdout, stderr) = await Tool.Run(TimeSpan.FromMinutes(15), "demo", "--out", outDir);
        Assert.True(exit == 0, $"demo exited {exit}:\n{stdout}\n{stderr}");

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
        var root = summary.RootElement;
        var after = root.GetProperty("AccuracyAfter").GetDouble();
        Assert.True(after >= 0.9, $"validation accuracy after fine-tuning {after:P1} < 90 %\n{stdout}");
        Assert.True(root.GetProperty("AccuracyBefore").GetDouble() < 0.6, "a fresh head should be near chance (25 %) before fine-tuning");
        Assert.Equal(after, root.GetProperty("OnnxRuntimeAccuracy").GetDouble(), 6);
        Assert.True(root.GetProperty("MaxLogitDifference").GetDouble() <= 1e-3);

        var model = OnnxModel.Load(Path.Combine(outDir, "resnet18-shapes.onnx"));
        Assert.Equal("head.logits", model.Outputs.Single().Name);
        foreach (var chart in new[] { "training.png", "gradients.grad-norms.png", "gradients.update-ratios.png", "gradients.dead-relu.png" })
        {
            var png = File.ReadAllBytes(Path.Combine(outDir, chart));
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
            Assert.Equal(900, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16, 4))); // IHDR width
            Assert.Equal(500, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20, 4))); // IHDR height
        }

        // gradient statistics: every 2 of the 36 steps, 68 trainable tensors (66 + head) and 19 ReLUs each time
        var stats = TrainingStatistics.ReadCsv(Path.Combine(outDir, "gradients.stats.csv"));
        Assert.Equal(Enumerable.Range(1, 18).Select(i => 2L * i), stats.Select(r => r.Step).Distinct());
        Assert.All(stats.GroupBy(r => r.Step), g => Assert.Equal((68, 68, 19), (g.Count(r => r.Kind == "grad_norm"), g.Count(r => r.Kind == "update_ratio"), g.Count(r => r.Kind == "dead_relu"))));
        Assert.All(stats.Where(r => r.Kind == "dead_relu"), r => Assert.InRange(r.Value, 0, 1));

        // the graph of the exported model: one SVG node per op (ResNet18's 74 plus the head's Flatten and Gemm)
        var svg = Path.Combine(outDir, "graph.svg");
        if (Environment.GetEnvironmentVariable("CI") == "true" || File.Exists(svg))
            Assert.Equal(model.Proto.Graph.Node.Count, GraphPictureTests.OpNodes(svg).Count);
        Assert.Contains("digraph", File.ReadAllText(Path.Combine(outDir, "graph.dot")));
    }
}
