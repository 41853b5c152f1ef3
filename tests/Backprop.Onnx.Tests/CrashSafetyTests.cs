using System.Diagnostics;
using Backprop.Onnx.Proto;
using Backprop.Training;

namespace Backprop.Onnx.Tests;

/// <summary>
/// Kills a process at random points while it writes checkpoints and ONNX exports (the `_crash-writer` verb of the tool),
/// over a hundred times; what is left under the target names must always be one complete generation.
/// </summary>
public class CrashSafetyTests
{
    [Fact]
    public async Task Killing_the_writer_at_random_points_never_leaves_a_partial_checkpoint_or_model()
    {
        var dir = TestData.Temp();
        var rng = new Random(12);
        var (kills, lastGeneration) = (0, 0L);
        while (kills < 110)
        {
            using var process = Process.Start(new ProcessStartInfo("dotnet", [Tool.Path, "_crash-writer", "--dir", dir, "--values", "262144"]) { RedirectStandardOutput = true })!;
            // wait until it has started writing, then a random moment more (writes take a few milliseconds each)
            var first = await process.StandardOutput.ReadLineAsync();
            Assert.NotNull(first);
            await Task.Delay(rng.Next(0, 40));
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            kills++;

            var checkpoint = Checkpoint.Load(Path.Combine(dir, "latest.bpck")); // throws on a partial file
            var generation = long.Parse(checkpoint.Metadata["generation"], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(generation >= lastGeneration, "the latest checkpoint went back in time");
            Assert.All(checkpoint.Tensors["w"].ToFloatArray(), v => Assert.Equal(generation, v));
            Assert.Equal(generation, checkpoint.Tensors["step"].ToInt64Array()[0]);
            lastGeneration = generation;

            var model = ModelReader.Read(Path.Combine(dir, "model.onnx")); // throws on a partial file
            var w = TensorConverter.ToTensor(model.Graph.Initializer.Single()).ToFloatArray();
            Assert.Equal(262144, w.Length);
            Assert.All(w, v => Assert.Equal(w[0], v));
            Assert.True(Math.Abs(w[0] - generation) <= 1, "the model and the checkpoint come from neighbouring generations");
        }
        // temporary files of killed writers are removed by the next write; only the last victim's can remain
        Assert.True(Directory.GetFiles(dir, ".*.tmp").Length <= 2, string.Join(", ", Directory.GetFiles(dir, ".*.tmp")));
        Assert.True(lastGeneration > 110, $"the writer should make progress across restarts (reached generation {lastGeneration})");
    }
}
