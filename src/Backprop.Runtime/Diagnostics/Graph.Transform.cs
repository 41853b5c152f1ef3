namespace Backprop.Diagnostics;

public sealed partial class Graph
{
    /// <summary>
    /// The subgraph of nodes whose name starts with one of <paramref name="prefixes"/>; values they read from cut-away nodes
    /// become inputs of the subgraph. Throws when no node matches.
    /// </summary>
    public Graph Select(params string[] prefixes)
    {
        var keep = _nodes.Where(n => prefixes.Any(p => n.Name.StartsWith(p, StringComparison.Ordinal))).ToHashSet();
        if (keep.Count == 0)
            throw new ArgumentException($"no node name starts with {string.Join(" or ", prefixes.Select(p => $"'{p}'"))}; names look like '{_nodes.FirstOrDefault()?.Name}'.", nameof(prefixes));
        var shown = string.Join(", ", prefixes.Take(3).Select(p => p + "*")) + (prefixes.Length > 3 ? $" and {prefixes.Length - 3} more" : "");
        var sub = new Graph($"{Title} — nodes named {shown}") { _reference = LargestGradientNorm() };
        foreach (var n in _nodes.Where(keep.Contains))
        {
            foreach (var e in n.Inputs)
            {
                if (e.Value.Producer is { } p && !keep.Contains(p)) sub.Value(e.Value.Name, ValueKind.Input);
            }
            sub.CopyNode(n.Op, n.Name, n.Inputs, n.Outputs, n.Repeats, n.Detail);
        }
        foreach (var v in _order.Where(v => v.Kind == ValueKind.Output && v.Producer is { } p && keep.Contains(p))) sub.Value(v.Name).Kind = ValueKind.Output;
        return sub;
    }

    /// <summary>
    /// Collapses runs of repeated blocks — the same sequence of ops wired the same way, two or more times in a row, like the
    /// layers of a ResNet stage or a transformer — into one node per run that says what repeats and how often.
    /// </summary>
    /// <param name="minBlock">Shortest block (in nodes) worth collapsing.</param>
    /// <param name="maxBlock">Longest block searched for.</param>
    public Graph CollapseRepeats(int minBlock = 3, int maxBlock = 64)
    {
        var sig = _nodes.Select(Signature).ToArray();
        var result = new Graph(Title) { _reference = LargestGradientNorm() };
        var i = 0;
        while (i < _nodes.Count)
        {
            var (bestLength, bestRepeats) = (0, 1);
            for (var length = Math.Min(maxBlock, (_nodes.Count - i) / 2); length >= minBlock; length--)
            {
                var repeats = 1;
                while (i + (repeats + 1) * length <= _nodes.Count && Same(sig, i, i + repeats * length, length)) repeats++;
                if (repeats > 1 && length * repeats > bestLength * bestRepeats) (bestLength, bestRepeats) = (length, repeats);
            }
            if (bestRepeats < 2)
            {
                var n = _nodes[i++];
                result.CopyNode(n.Op, n.Name, n.Inputs, n.Outputs, n.Repeats, n.Detail);
                continue;
            }
            var run = _nodes.Skip(i).Take(bestLength * bestRepeats).ToList();
            var inRun = run.ToHashSet();
            // One edge per outside value the run reads. When only the run reads it, the gradient into the block is the value's
            // total; otherwise the block's share is the sum of its readers' shares, of which one reader's is kept.
            var inputs = run.SelectMany(n => n.Inputs).Where(e => e.Value.Producer is null || !inRun.Contains(e.Value.Producer))
                .Where(e => e.Value.Kind != ValueKind.Parameter && e.Value.Kind != ValueKind.Constant)
                .GroupBy(e => e.Value)
                .Select(g =>
                {
                    var edge = new GraphEdge(g.Key);
                    edge.SetGradient(Consumers(g.Key).All(inRun.Contains) ? g.Key.Gradient : g.First().Gradient);
                    return edge;
                }).ToList();
            var outputs = run.SelectMany(n => n.Outputs)
                .Where(v => v.Kind == ValueKind.Output || Consumers(v).Any(c => !inRun.Contains(c))).ToList();
            var ops = string.Join(" → ", run.Take(bestLength).Select(n => n.Op));
            var name = CommonPrefix(run.Select(n => n.Name).ToList());
            result.CopyNode($"{bestRepeats}× block", name.Length > 0 ? name + "…" : $"{run[0].Name} … {run[^1].Name}", inputs, outputs, bestRepeats,
                $"{ops} ({bestLength} ops each, {run.Count} in all)");
            i += run.Count;
        }
        foreach (var v in _order.Where(v => v.Kind == ValueKind.Output)) result.Value(v.Name).Kind = ValueKind.Output;
        return result;
    }

    private string Signature(GraphNode n) =>
        n.Op + "(" + string.Join(",", n.Inputs.Select(e => e.Value.Producer is { } p ? (n.Index - p.Index).ToString() : e.Value.Kind.ToString()[0].ToString())) + ")";

    private static bool Same(string[] sig, int a, int b, int length)
    {
        for (var k = 0; k < length; k++)
        {
            if (sig[a + k] != sig[b + k]) return false;
        }
        return true;
    }

    private static string CommonPrefix(List<string> names)
    {
        var prefix = names[0];
        foreach (var n in names.Skip(1))
        {
            var k = 0;
            while (k < prefix.Length && k < n.Length && prefix[k] == n[k]) k++;
            prefix = prefix[..k];
        }
        return prefix.TrimEnd('_', '.', '/', '-');
    }

    private void CopyNode(string op, string name, IEnumerable<GraphEdge> inputs, IEnumerable<GraphValue> outputs, int repeats, string? detail)
    {
        var ins = inputs.ToList();
        var outs = outputs.ToList();
        foreach (var e in ins)
        {
            var v = Find(e.Value.Name);
            if (v is null)
            {
                v = Value(e.Value.Name, e.Value.Kind == ValueKind.Output ? ValueKind.Intermediate : e.Value.Kind);
                v.CopyObservations(e.Value);
            }
            else if (v.Shape is null) v.CopyObservations(e.Value);
        }
        var node = AddNode(op, name, ins.Select(e => e.Value.Name), outs.Select(v => v.Name), repeats, detail);
        for (var k = 0; k < ins.Count; k++) node.Inputs[k].CopyGradient(ins[k]);
        for (var k = 0; k < outs.Count; k++) node.Outputs[k].CopyObservations(outs[k]);
    }
}
