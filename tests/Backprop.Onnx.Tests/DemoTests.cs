using System.Buffers.Binary;
using System.Diagnostics;
using System.Text.Json;

namespace Backprop.Onnx.Tests;

/// <summary>The README's main command, `backprop demo`, run as a user runs it: a separate process of the built tool.</summary>
public class DemoTests
{
    private static string? ToolPath()
    {
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent?.Name ?? "Release"; // bin/<Configuration>/net10.0
        var dll = Path.Combine(TestData.RepoRoot, "tools", "Backprop.Cli", "bin", configuration, "net10.0", "backprop.dll");
        return File.Exists(dll) ? dll : null;
    }

    [Fact]
    public async Task Demo_fine_tunes_resnet18_to_90_percent_and_exports_a_model_onnx_runtime_agrees_with()
    {
        var tool = ToolPath();
        Assert.True(tool is not null, "the backprop tool was not built beside this test project (it is a build dependency of it)");
        var outDir = TestData.Temp();
        var info = new ProcessStartInfo("dotnet", [tool!, "demo", "--out", outDir]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        var stdoutTask = process.StandardOutput.ReadToEndAsync();
        var stderrTask = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("the demo did not finish in 15 minutes");
        }
        var (stdout, stderr) = (await stdoutTask, await stderrTask);
        Assert.True(process.ExitCode == 0, $"demo exited {process.ExitCode}:\n{stdout}\n{stderr}");

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
        var root = summary.RootElement;
        var after = root.GetProperty("AccuracyAfter").GetDouble();
        Assert.True(after >= 0.9, $"validation accuracy after fine-tuning {after:P1} < 90 %\n{stdout}");
        Assert.True(root.GetProperty("AccuracyBefore").GetDouble() < 0.6, "a fresh head should be near chance (25 %) before fine-tuning");
        Assert.Equal(after, root.GetProperty("OnnxRuntimeAccuracy").GetDouble(), 6);
        Assert.True(root.GetProperty("MaxLogitDifference").GetDouble() <= 1e-3);

        var model = OnnxModel.Load(Path.Combine(outDir, "resnet18-shapes.onnx"));
        Assert.Equal("head.logits", model.Outputs.Single().Name);
        var png = File.ReadAllBytes(Path.Combine(outDir, "training.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.Equal(900, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16, 4))); // IHDR width
        Assert.Equal(500, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20, 4))); // IHDR height
    }
}
