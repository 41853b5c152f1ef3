using System.Collections.Concurrent;
using System.Diagnostics;

namespace Backprop.Runtime;

/// <summary>
/// Optional per-op timing of forward kernels and backward rules (self time of each call, rules' inner ops
/// counted separately). Off unless <see cref="Enabled"/> is set or BACKPROP_PROFILE=1.
/// </summary>
public static class Profiler
{
    private static readonly ConcurrentDictionary<string, (long Calls, long Ticks)> s_totals = new();

    /// <summary>Whether timings are collected.</summary>
    public static bool Enabled { get; set; } = Environment.GetEnvironmentVariable("BACKPROP_PROFILE") is "1" or "shapes";

    /// <summary>Whether forward timings are kept apart by the shapes of the call's inputs (BACKPROP_PROFILE=shapes).</summary>
    public static bool ByShape { get; set; } = Environment.GetEnvironmentVariable("BACKPROP_PROFILE") == "shapes";

    /// <summary>Timings so far: "Op forward" / "Op backward" → calls and milliseconds, slowest first.</summary>
    public static IReadOnlyList<(string Name, long Calls, double Milliseconds)> Report() =>
        s_totals.Select(p => (p.Key, p.Value.Calls, p.Value.Ticks * 1000.0 / Stopwatch.Frequency)).OrderByDescending(r => r.Item3).ToList();

    /// <summary>Forgets all timings.</summary>
    public static void Reset() => s_totals.Clear();

    internal static long Start() => Enabled ? Stopwatch.GetTimestamp() : 0;

    internal static void Stop(long start, IDifferentiableOp op, string phase, ReadOnlySpan<Tensor> inputs = default)
    {
        if (start == 0) return;
        var elapsed = Stopwatch.GetTimestamp() - start;
        var key = $"{op.Schema.QualifiedName} {phase}";
        if (ByShape) for (int i = 0; i < Math.Min(2, inputs.Length); i++) key += " " + inputs[i].Shape;
        s_totals.AddOrUpdate(key, (1, elapsed), (_, v) => (v.Calls + 1, v.Ticks + elapsed));
    }
}
