namespace Backprop.Runtime;

/// <summary>One reverse-mode walk over the recorded graph, in reverse topological order.</summary>
internal sealed class BackwardPass
{
    [ThreadStatic] private static Node? t_current;

    /// <summary>The node whose backward rule is running on this thread, if any (for error messages).</summary>
    internal static Node? CurrentRule => t_current;

    private readonly bool _retainGraph;
    private readonly bool _createGraph;
    private readonly Dictionary<Node, Tensor?[]> _grads = [];
    private readonly Dictionary<Tensor, Tensor> _leafGrads = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Node, int> _dependencies = [];
    private readonly HashSet<Node> _needed = [];
    private readonly Dictionary<(Node, int), int> _captureNonLeaf = [];
    private readonly Dictionary<Tensor, int> _captureLeaf = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<Node> _captureNodes = [];
    private readonly Tensor?[]? _captured;

    private BackwardPass(bool retainGraph, bool createGraph, Tensor[]? inputs)
    {
        _retainGraph = retainGraph;
        _createGraph = createGraph;
        if (inputs is null) return;
        _captured = new Tensor?[inputs.Length];
        for (var i = 0; i < inputs.Length; i++)
        {
            var x = inputs[i];
            if (!x.RequiresGrad) throw new AutogradException($"Input {i} of the gradient request does not require grad, so no gradient can flow to it.");
            if (x.GradFn is Node n)
            {
                _captureNonLeaf[(n, x.OutputIndex)] = i;
                _captureNodes.Add(n);
            }
            else _captureLeaf[x] = i;
        }
    }

    /// <summary>Runs the pass. With <paramref name="inputs"/>, returns their gradients (null where none flowed) and leaves .Grad alone.</summary>
    public static Tensor?[]? Run(Tensor[] outputs, Tensor?[]? seeds, Tensor[]? inputs, bool retainGraph, bool createGraph)
    {
        var pass = new BackwardPass(retainGraph, createGraph, inputs);
        using (GradMode.Set(createGraph))
        {
            pass.Execute(outputs, seeds);
        }
        return pass._captured;
    }

    private void Execute(Tensor[] outputs, Tensor?[]? seeds)
    {
        if (seeds is not null && seeds.Length != outputs.Length)
            throw new AutogradException($"{seeds.Length} seeds for {outputs.Length} outputs.");
        var roots = new List<Node>();
        for (var i = 0; i < outputs.Length; i++)
        {
            var y = outputs[i];
            if (!y.RequiresGrad)
                throw new AutogradException($"Output {i} (shape {y.Shape}) does not require grad and has no GradFn: nothing recorded leads to it.");
            var seed = seeds?[i] ?? ImplicitSeed(y, i);
            if (seed.Shape != y.Shape) throw new AutogradException($"Seed {i} has shape {seed.Shape} but output {i} has shape {y.Shape}.");
            if (y.GradFn is Node n)
            {
                Accumulate(n, y.OutputIndex, seed);
                roots.Add(n);
            }
            else
            {
                AccumulateLeaf(y, seed);
            }
        }
        CollectDependencies(roots);
        var ready = new PriorityQueue<Node, long>();
        foreach (var r in roots.Distinct())
        {
            if (_dependencies[r] == 0) ready.Enqueue(r, -r.Id);
        }
        while (ready.TryDequeue(out var node, out _))
        {
            Process(node);
            foreach (var e in node.Inputs)
            {
                if (e.Node is not { } child) continue;
                if (--_dependencies[child] == 0) ready.Enqueue(child, -child.Id);
            }
        }
        FinishLeaves();
    }

    private static Tensor ImplicitSeed(Tensor y, int i) => y.Size == 1
        ? Tensor.OnesLike(y)
        : throw new AutogradException($"Output {i} has shape {y.Shape}; a gradient seed is needed for outputs with more than one element.");

    private void CollectDependencies(List<Node> roots)
    {
        var stack = new Stack<Node>();
        foreach (var r in roots)
        {
            if (_dependencies.TryAdd(r, 0)) stack.Push(r);
        }
        var order = new List<Node>();
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            order.Add(n);
            foreach (var e in n.Inputs)
            {
                if (e.Node is not { } child) continue;
                if (_dependencies.TryGetValue(child, out var count)) _dependencies[child] = count + 1;
                else
                {
                    _dependencies[child] = 1;
                    stack.Push(child);
                }
            }
        }
        // A node is needed when a gradient someone asked for flows through it.
        order.Sort((a, b) => a.Id.CompareTo(b.Id));
        foreach (var n in order)
        {
            var needed = false;
            for (var i = 0; i < n.Inputs.Length && !needed; i++)
            {
                var e = n.Inputs[i];
                needed = e.Node is { } c ? _needed.Contains(c) : e.Leaf is { } leaf && (_captured is null || _captureLeaf.ContainsKey(leaf));
            }
            needed |= _captureNodes.Contains(n);
            if (needed) _needed.Add(n);
        }
    }

    private void Process(Node node)
    {
        var gradOut = _grads.Remove(node, out var g) ? g : new Tensor?[1];
        if (!_needed.Contains(node)) return;
        var ctx = node.Context;
        if (ctx.IsReleased)
            throw new AutogradException($"Backward reached {node.Describe()} whose saved tensors were freed by an earlier backward pass. Pass retainGraph: true to the first backward to walk the graph twice.");
        var any = false;
        for (var k = 0; k < gradOut.Length; k++)
        {
            if (gradOut[k] is null) continue;
            var output = ctx.Output(k);
            foreach (var hook in output.Hooks) gradOut[k] = hook(gradOut[k]!) ?? gradOut[k];
            if (output.RetainsGrad) output.Grad = output.Grad is null ? gradOut[k] : Sum(output.Grad, gradOut[k]!);
            if (_captured is not null && _captureNonLeaf.TryGetValue((node, k), out var slot))
                _captured[slot] = _captured[slot] is null ? gradOut[k] : Sum(_captured[slot]!, gradOut[k]!);
            any = true;
        }
        if (!any) return;
        if (gradOut.Length < ctx.OutputCount) Array.Resize(ref gradOut, ctx.OutputCount);
        if (!node.Op.SupportsHigherOrder && (_createGraph || ForwardAD.HasActiveTangent(gradOut.Concat(ctx.InputsForEngine()))))
            throw new HigherOrderNotSupportedException(
                $"Op {node.Describe()} is once-differentiable (SupportsHigherOrder = false): its gradient cannot be differentiated again (createGraph or forward-over-reverse).");
        for (var i = 0; i < node.Inputs.Length; i++)
        {
            var e = node.Inputs[i];
            ctx.NeedsInputGrad[i] = e.Node is { } c ? _needed.Contains(c) : e.Leaf is { } leaf && (_captured is null || _captureLeaf.ContainsKey(leaf));
        }
        Tensor?[] gradIn;
        var outer = t_current;
        t_current = node;
        var started = Profiler.Start();
        try
        {
            gradIn = node.Op.Vjp(ctx, gradOut);
        }
        catch (Exception e) when (OpFailedException.ShouldWrap(e))
        {
            throw OpFailedException.Wrap(node.Op, "Vjp", e);
        }
        finally
        {
            Profiler.Stop(started, node.Op, "backward rule (inclusive)");
            t_current = outer;
        }
        Check.RuleOutputs(node.Op, "Vjp", gradIn, ctx.InputsForEngine());
        if (GradMode.IsAnomalyDetectionEnabled) CheckGradients(node, gradIn);
        for (var i = 0; i < gradIn.Length; i++)
        {
            if (gradIn[i] is not { } gi || !ctx.NeedsInputGrad[i]) continue;
            var e = node.Inputs[i];
            if (e.Node is { } child) Accumulate(child, e.OutputIndex, gi);
            else if (e.Leaf is { } leaf) AccumulateLeaf(leaf, gi);
        }
        if (!_retainGraph) ctx.Release();
    }

    private void CheckGradients(Node node, Tensor?[] gradIn)
    {
        for (var i = 0; i < gradIn.Length; i++)
        {
            if (gradIn[i] is not { } gi) continue;
            var at = Check.FirstNonFinite(gi);
            if (at >= 0)
                throw new AnomalyException($"The backward rule of {node.Describe()} produced a non-finite gradient ({gi.GetAsDouble(at)}) for input {i} at flat index {at}.");
        }
    }

    private void Accumulate(Node node, int index, Tensor grad)
    {
        if (!_grads.TryGetValue(node, out var slots))
        {
            slots = new Tensor?[node.Context.IsReleased ? index + 1 : node.Context.OutputCount];
            _grads[node] = slots;
        }
        else if (slots.Length <= index)
        {
            Array.Resize(ref slots, index + 1);
            _grads[node] = slots;
        }
        slots[index] = slots[index] is null ? grad : Sum(slots[index]!, grad);
    }

    private void AccumulateLeaf(Tensor leaf, Tensor grad) =>
        _leafGrads[leaf] = _leafGrads.TryGetValue(leaf, out var g) ? Sum(g, grad) : grad;

    private void FinishLeaves()
    {
        foreach (var (leaf, total) in _leafGrads)
        {
            var grad = total;
            foreach (var hook in leaf.Hooks) grad = hook(grad) ?? grad;
            if (_captured is not null)
            {
                if (_captureLeaf.TryGetValue(leaf, out var slot)) _captured[slot] = grad;
                continue;
            }
            if (!_createGraph) grad = grad.Detach();
            leaf.Grad = leaf.Grad is null ? grad : Sum(leaf.Grad, grad);
        }
    }

    private static Tensor Sum(Tensor a, Tensor b) => Ops.Add(a, b);
}
