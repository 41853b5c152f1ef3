namespace Backprop.Runtime;

/// <summary>One reverse-mode walk over the recorded graph, in reverse topological order.</summary>
internal sealed class BackwardPass
{
    [ThreadStatic] private static Node? t_current;

    /// <summary>The node whose backward rule is running on this thread, if any (for error messages).</summary>
    internal static Node? CurrentRule => t_current;

    private readonly bool _retainGraph;
    private readonly bool _createGraph;
    private readonly Dictionary<Node, State> _states = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Tensor, Tensor> _leafGrads = new(ReferenceEqualityComparer.Instance);
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

    /// <summary>
    /// What the pass knows about one node, found once per node when the graph is walked; the edges to its children are
    /// resolved to their states then, so the backward loop itself looks nothing up.
    /// </summary>
    private sealed class State(Node node)
    {
        public readonly Node Node = node;
        public readonly State?[] Children = new State?[node.Inputs.Length];

        /// <summary>Edges from nodes not yet processed.</summary>
        public int Pending;

        /// <summary>Whether the walk has started on this node's inputs.</summary>
        public bool Walked;

        /// <summary>Whether a gradient someone asked for flows through this node.</summary>
        public bool Needed;

        public Tensor?[]? Grads;
    }

    private void Execute(Tensor[] outputs, Tensor?[]? seeds)
    {
        if (seeds is not null && seeds.Length != outputs.Length)
            throw new AutogradException($"{seeds.Length} seeds for {outputs.Length} outputs.");
        var roots = new List<State>();
        for (var i = 0; i < outputs.Length; i++)
        {
            var y = outputs[i];
            if (!y.RequiresGrad)
                throw new AutogradException($"Output {i} (shape {y.Shape}) does not require grad and has no GradFn: nothing recorded leads to it.");
            var seed = seeds?[i] ?? ImplicitSeed(y, i);
            if (seed.Shape != y.Shape) throw new AutogradException($"Seed {i} has shape {seed.Shape} but output {i} has shape {y.Shape}.");
            if (y.GradFn is Node n)
            {
                if (!_states.TryGetValue(n, out var root))
                {
                    root = new State(n);
                    _states[n] = root;
                    roots.Add(root);
                }
                Accumulate(root, y.OutputIndex, seed);
            }
            else
            {
                AccumulateLeaf(y, seed);
            }
        }
        Walk(roots);
        var ready = new PriorityQueue<State, long>();
        foreach (var r in roots)
        {
            if (r.Pending == 0) ready.Enqueue(r, -r.Node.Id);
        }
        while (ready.TryDequeue(out var state, out _))
        {
            Process(state);
            foreach (var child in state.Children)
            {
                if (child is not null && --child.Pending == 0) ready.Enqueue(child, -child.Node.Id);
            }
        }
        FinishLeaves();
    }

    private static Tensor ImplicitSeed(Tensor y, int i) => y.Size == 1
        ? Tensor.OnesLike(y)
        : throw new AutogradException($"Output {i} has shape {y.Shape}; a gradient seed is needed for outputs with more than one element.");

    /// <summary>
    /// Depth-first walk from the roots: creates each node's state, counts the edges into it, and decides in post-order
    /// (every child finished before its parent, as the graph is acyclic) whether the node is needed.
    /// </summary>
    private void Walk(List<State> roots)
    {
        var stack = new Stack<(State State, int Next)>();
        foreach (var r in roots) stack.Push((r, 0));
        while (stack.Count > 0)
        {
            var (s, next) = stack.Pop();
            if (next == 0)
            {
                // A root already reached (and walked) from another root's subgraph.
                if (s.Walked) continue;
                s.Walked = true;
            }
            var inputs = s.Node.Inputs;
            if (next < inputs.Length)
            {
                stack.Push((s, next + 1));
                if (inputs[next].Node is not { } child) continue;
                if (_states.TryGetValue(child, out var known))
                {
                    known.Pending++;
                    s.Children[next] = known;
                    // Another root not walked yet: walk it now, so it is finished before this node is.
                    if (!known.Walked) stack.Push((known, 0));
                    continue;
                }
                var fresh = new State(child) { Pending = 1 };
                _states[child] = fresh;
                s.Children[next] = fresh;
                stack.Push((fresh, 0));
                continue;
            }
            var needed = _captureNodes.Count > 0 && _captureNodes.Contains(s.Node);
            for (var i = 0; i < inputs.Length && !needed; i++) needed = Flows(s, i);
            s.Needed = needed;
        }
    }

    /// <summary>Whether a gradient someone asked for flows into input <paramref name="i"/> of the node.</summary>
    private bool Flows(State s, int i) => s.Children[i] is { } c
        ? c.Needed
        : s.Node.Inputs[i].Leaf is { } leaf && (_captured is null || _captureLeaf.ContainsKey(leaf));

    private void Process(State state)
    {
        var node = state.Node;
        var gradOut = state.Grads ?? new Tensor?[1];
        state.Grads = null;
        if (!state.Needed) return;
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
        for (var i = 0; i < node.Inputs.Length; i++) ctx.NeedsInputGrad[i] = Flows(state, i);
        Tensor?[] gradIn;
        var outer = t_current;
        t_current = node;
        var started = Profiler.Start();
        try
        {
            // A raw-kernel first-order rule only where nothing differentiates the gradient again.
            gradIn = node.Op is IFastVjp fast && !_createGraph && !ForwardAD.AnyActive && fast.FastVjp(ctx, gradOut) is { } quick
                ? quick
                : node.Op.Vjp(ctx, gradOut);
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
            if (state.Children[i] is { } child) Accumulate(child, node.Inputs[i].OutputIndex, gi);
            else if (node.Inputs[i].Leaf is { } leaf) AccumulateLeaf(leaf, gi);
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

    private static void Accumulate(State state, int index, Tensor grad)
    {
        var ctx = state.Node.Context;
        ref var slots = ref state.Grads;
        if (slots is null) slots = new Tensor?[ctx.IsReleased ? index + 1 : ctx.OutputCount];
        else if (slots.Length <= index) Array.Resize(ref slots, index + 1);
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
