using System.Runtime;

namespace Backprop.Bench;

/// <summary>
/// Warm-up to the JIT's steady state before a step is timed. .NET compiles a method quickly first and again, optimised,
/// after it has run a while (tiered compilation, with an instrumented tier in between); for a ResNet18 fine-tuning step
/// that takes about 20 steps here (a step compiled 1,600 methods, then 250, 450, 36, 200, …, single digits from about
/// step 17), and steps 4–10 ran 320–450 ms against 285–305 once settled. BenchmarkDotNet's short job (3 warm-up
/// iterations of one or two steps) and a few warm-up rounds would time that transition, not the code a fine-tuning run
/// spends its hours in. Both sides of each comparison warm up the same way.
/// </summary>
public static class SteadyState
{
    /// <summary>
    /// Runs <paramref name="step"/> until two consecutive calls each compile at most <paramref name="quiet"/> methods
    /// (at least <paramref name="min"/> calls, at most <paramref name="max"/>); returns the number of calls.
    /// </summary>
    public static int WarmUp(Action step, int min = 5, int max = 40, int quiet = 5)
    {
        var settled = 0;
        for (var calls = 1; calls <= max; calls++)
        {
            var before = JitInfo.GetCompiledMethodCount();
            step();
            settled = JitInfo.GetCompiledMethodCount() - before <= quiet ? settled + 1 : 0;
            if (calls >= min && settled >= 2) return calls;
        }
        return max;
    }
}
