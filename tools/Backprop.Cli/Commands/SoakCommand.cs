using System.Diagnostics;
using System.Globalization;
using Backprop.Runtime;
using Backprop.Training;
using Spectre.Console.Cli;

namespace Backprop.Cli.Commands;

/// <summary>
/// Hidden: the long-run memory check of docs/reliability.md. Trains the benchmark MLP (784-512-512-10, batch 128, SGD with
/// momentum) for --steps steps and prints the process's resident memory and the managed heap (after a full collection) at
/// step 100 and every --every steps, then the largest deviation from step 100. With --pooled each step runs in a
/// <see cref="TensorScope"/> (activations and gradients reused from a <see cref="BufferPool"/>).
/// </summary>
internal sealed class SoakCommand : Command<SoakCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--steps <N>")]
        public int Steps { get; init; } = 20_000;

        [CommandOption("--every <N>")]
        public int Every { get; init; } = 1000;

        [CommandOption("--pooled")]
        public bool Pooled { get; init; }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        Runtime.Use([]);
        var rng = new TrainingRandom(1);
        KeyValuePair<string, Tensor> P(string name, params int[] shape)
        {
            var t = Tensor.Normal(new Shape(shape), rng, std: Math.Sqrt(2.0 / shape[0]));
            t.RequiresGrad = true;
            return new(name, t);
        }
        var p = new[] { P("w1", 784, 512), P("b1", 512), P("w2", 512, 512), P("b2", 512), P("w3", 512, 10), P("b3", 10) };
        var sgd = new Sgd(p, 0.01, momentum: 0.9);
        var x = Tensor.Normal(new Shape(128, 784), rng);
        var y = Tensor.FromArray(Enumerable.Range(0, 128).Select(i => (long)(i % 10)).ToArray(), 128);
        long baseline = 0;
        double worst = 0;
        var clock = Stopwatch.StartNew();
        var pool = new BufferPool();
        var (allocated, since) = (GC.GetTotalAllocatedBytes(), 0);
        Console.WriteLine("step,rss_mb,managed_mb,gc_committed_mb,allocated_mb_per_step,loss,seconds");
        for (var step = 1; step <= s.Steps && !cancellationToken.IsCancellationRequested; step++)
        {
            double loss;
            using (s.Pooled ? pool.Scope() : null)
            {
                sgd.ZeroGrad();
                var h = Ops.Relu(Ops.Gemm(x, p[0].Value, p[1].Value));
                h = Ops.Relu(Ops.Gemm(h, p[2].Value, p[3].Value));
                var l = Losses.CrossEntropy(Ops.Gemm(h, p[4].Value, p[5].Value), y);
                l.Backward();
                sgd.Step();
                loss = l.Item();
            }
            since++;
            if (step != 100 && step % s.Every != 0) continue;
            var perStep = (GC.GetTotalAllocatedBytes() - allocated) / (double)since;
            // Measured after a full, compacting collection: the level the process holds, not where the GC's sawtooth of
            // short-lived activations happens to be.
            System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            using var me = Process.GetCurrentProcess();
            var rss = me.WorkingSet64;
            if (step == 100) baseline = rss;
            if (step > 100) worst = Math.Max(worst, Math.Abs(rss - baseline) / (double)baseline);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{step},{rss / 1048576.0:F1},{GC.GetTotalMemory(false) / 1048576.0:F1},{GC.GetGCMemoryInfo().TotalCommittedBytes / 1048576.0:F1},{perStep / 1048576.0:F2},{loss:F4},{clock.Elapsed.TotalSeconds:F0}"));
            (allocated, since) = (GC.GetTotalAllocatedBytes(), 0);
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"largest deviation of resident memory from step 100: {worst:P1}"));
        return worst <= 0.10 ? 0 : 1;
    }
}
