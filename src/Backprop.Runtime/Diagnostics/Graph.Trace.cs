using Backprop.Runtime;

namespace Backprop.Diagnostics;

public sealed partial class Graph
{
    /// <summary>
    /// The graph autograd recorded for <paramref name="outputs"/>, one node per recorded op, with every value's forward
    /// result. Gradient hooks are attached to every value and edge, so a following backward pass (for example
    /// <c>loss.Backward()</c>) fills in the gradients; dispose the returned trace to detach the hooks from leaves.
    /// Name leaves you care about in <paramref name="names"/> (others are called by position).
    /// </summary>
    public static GraphTrace Trace(IReadOnlyList<(string Name, Tensor Tensor)> outputs, IReadOnlyList<(string Name, Tensor Tensor)>? names = null)
    {
        var graph = new Graph("autograd graph");
        var trace = new GraphTrace(graph);
        var named = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
        foreach (var (n, t) in names ?? []) named[t] = n;
        foreach (var (n, t) in outputs) named[t] = n;
        var ordered = new List<Node>();
        var seen = new HashSet<Node>();
        var stack = new Stack<Node>();
        foreach (var (_, t) in outputs)
        {
            if (t.GradFn is Node n && seen.Add(n)) stack.Push(n);
        }
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            ordered.Add(n);
            if (n.Context.IsReleased) throw new AutogradException($"Cannot trace {n.Describe()}: its saved tensors were freed by a backward pass. Trace before calling Backward.");
            foreach (var e in n.Inputs)
            {
                if (e.Node is { } c && seen.Add(c)) stack.Push(c);
            }
        }
        ordered.Sort((a, b) => a.Id.CompareTo(b.Id));
        string NameOf(Tensor t, string fallback) => named.TryGetValue(t, out var s) ? s : fallback;
        var leafCount = 0;
        foreach (var n in ordered)
        {
            var ctx = n.Context;
            var inputs = new List<string>();
            for (var i = 0; i < n.Inputs.Length; i++)
            {
                var e = n.Inputs[i];
                var x = ctx.Input(i);
                string name;
                if (e.Node is { } c) name = NameOf(x, $"{c.OpName}#{c.Id}:{e.OutputIndex}");
                else
                {
                    name = NameOf(x, x.RequiresGrad ? $"leaf{leafCount++}" : $"const{leafCount++}");
                    var v = graph.Value(name, x.RequiresGrad ? ValueKind.Parameter : ValueKind.Constant);
                    if (v.Shape is null)
                    {
                        v.Observe(x);
                        if (x.RequiresGrad) trace.Hook(x, v.ObserveGradient);
                    }
                }
                inputs.Add(name);
            }
            var outputNames = Enumerable.Range(0, ctx.OutputCount).Select(k => NameOf(ctx.Output(k), $"{n.OpName}#{n.Id}:{k}")).ToArray();
            var node = graph.AddNode(n.OpName, $"#{n.Id}", inputs, outputNames);
            for (var k = 0; k < outputNames.Length; k++)
            {
                var y = ctx.Output(k);
                node.Outputs[k].Observe(y);
                if (y.RequiresGrad) trace.Hook(y, node.Outputs[k].ObserveGradient);
            }
        }
        foreach (var (name, t) in outputs)
        {
            var v = graph.Find(name) ?? graph.Value(name, ValueKind.Output);
            v.Kind = ValueKind.Output;
            if (v.Shape is null) v.Observe(t);
        }
        return trace;
    }
}

/// <summary>A <see cref="Graph"/> being filled by gradient hooks; dispose to remove the hooks from leaf tensors.</summary>
public sealed class GraphTrace : IDisposable
{
    private readonly List<(Tensor Tensor, Func<Tensor, Tensor?> Hook)> _hooks = [];

    internal GraphTrace(Graph graph) => Graph = graph;

    /// <summary>The traced graph; gradients appear after the backward pass.</summary>
    public Graph Graph { get; }

    internal void Hook(Tensor t, Action<Tensor> observe)
    {
        Func<Tensor, Tensor?> hook = g => { observe(g); return null; };
        t.RegisterHook(hook);
        _hooks.Add((t, hook));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var (t, h) in _hooks) t.RemoveHook(h);
        _hooks.Clear();
    }
}
