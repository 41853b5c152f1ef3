namespace Backprop.Onnx;

/// <summary>
/// When each value a plan run produces is read for the last time, so a pooled run can give its buffer back right after:
/// a read by a node of a fused chain counts at the chain's position (where the chain runs), values nobody reads die where
/// they are made, and the run's outputs never die.
/// </summary>
internal static class Lifetimes
{
    /// <summary>Per run position, the produced values whose last reader runs there.</summary>
    public static Dictionary<int, List<string>> LastReads(IReadOnlyList<PlanStep> steps, string[][] reads, IReadOnlyList<int> order, Func<int, int> position, IReadOnlyCollection<string> outputs)
    {
        var last = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var index in order)
        {
            var at = position(index);
            foreach (var output in steps[index].Node.Output.Where(o => o.Length > 0)) last.TryAdd(output, at);
            foreach (var name in reads[index])
            {
                if (last.TryGetValue(name, out var seen) && seen < at) last[name] = at;
            }
        }
        var keep = new HashSet<string>(outputs, StringComparer.Ordinal);
        var release = new Dictionary<int, List<string>>();
        foreach (var (name, at) in last)
        {
            if (keep.Contains(name)) continue;
            if (!release.TryGetValue(at, out var list)) release[at] = list = [];
            list.Add(name);
        }
        return release;
    }
}
