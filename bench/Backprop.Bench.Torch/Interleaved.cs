using System.Diagnostics;
using System.Globalization;

namespace Backprop.Bench.Torch;

/// <summary>
/// The fine-tuning steps of Backprop and TorchSharp alternating in one process (<c>--interleaved [rounds]</c>): each round
/// times two steps of one, then two of the other. This machine's speed drifts by up to 2× within minutes as the host moves
/// its two vCPUs, so the separate BenchmarkDotNet runs of the two sides, minutes apart, can catch different phases; here
/// both sides see the same phases, and the median of the per-round ratios is the comparison. Writes
/// interleaved-report.csv beside BenchmarkDotNet's reports.
/// </summary>
internal static class Interleaved
{
    public static void Run(int rounds, string resultsDir)
    {
        var resnet = new FineTuneBenchmarks();
        var torchResnet = new TorchFineTuneBenchmarks();
        var minilm = new MiniLmFineTuneBenchmarks();
        var torchMinilm = new TorchMiniLmBenchmarks();
        resnet.Setup();
        torchResnet.Setup();
        minilm.Setup();
        torchMinilm.Setup();
        var rows = new List<string> { "Model,Rounds,BackpropMedianMs,TorchSharpMedianMs,RatioMedian,RatioMin,RatioMax" };
        foreach (var (model, ours, theirs) in new (string, Func<double>, Func<double>)[]
                 {
                     ("ResNet18", resnet.ResNet18FineTuneStep, torchResnet.ResNet18FineTuneStep),
                     ("MiniLM", minilm.MiniLmFineTuneStep, torchMinilm.MiniLmFineTuneStep),
                 })
        {
            for (var i = 0; i < 2; i++)
            {
                ours();
                theirs();
            }
            var (a, b, ratios) = (new List<double>(), new List<double>(), new List<double>());
            for (var r = 0; r < rounds; r++)
            {
                var (x, y) = (Time(ours), Time(theirs));
                a.Add(x);
                b.Add(y);
                ratios.Add(x / y);
                Console.WriteLine($"{model} round {r + 1}/{rounds}: Backprop {x:F0} ms, TorchSharp {y:F0} ms, ratio {x / y:F2}");
            }
            rows.Add(string.Join(",", model, rounds, F(Median(a)), F(Median(b)), F(Median(ratios)), F(ratios.Min()), F(ratios.Max())));
        }
        Directory.CreateDirectory(resultsDir);
        File.WriteAllLines(Path.Combine(resultsDir, "interleaved-report.csv"), rows);
    }

    /// <summary>
    /// Mean of two consecutive steps, in milliseconds, after a pause in which the other side's worker threads (libtorch's
    /// OpenMP pool, Backprop's kernel threads) stop spinning and sleep.
    /// </summary>
    private static double Time(Func<double> step)
    {
        Thread.Sleep(300);
        var t0 = Stopwatch.GetTimestamp();
        step();
        step();
        return Stopwatch.GetElapsedTime(t0).TotalMilliseconds / 2;
    }

    private static double Median(List<double> v)
    {
        var s = v.OrderBy(x => x).ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    private static string F(double v) => v.ToString("F3", CultureInfo.InvariantCulture);
}
