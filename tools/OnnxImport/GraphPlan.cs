using Backprop.Onnx.Proto;

namespace Backprop.Onnx;

/// <summary>A validated graph: nodes in dependency order, each bound to its importer.</summary>
internal sealed class GraphPlan
{
    private readonly PlanStep[] _steps;
    private readonly string[][] _reads;
    private readonly string[] _outputs;
    private readonly Dictionary<NodeProto, Dictionary<string, GraphPlan>> _subgraphs;
    private readonly Dictionary<string, Tensor> _initializers;
    private readonly Dictionary<int, FusedChain> _chains;
    private readonly BufferPool _pool = new();
    private readonly Dictionary<int, List<string>>?[] _lastReads = new Dictionary<int, List<string>>?[2];

    private GraphPlan((NodeProto, INodeImporter, int)[] steps, string[][] reads, string[] outputs, Dictionary<NodeProto, Dictionary<string, GraphPlan>> subgraphs,
        Dictionary<string, Tensor> initializers)
    {
        _steps = steps.Select(s => new PlanStep(s.Item1, s.Item2, s.Item3)).ToArray();
        _reads = reads;
        _outputs = outputs;
        _subgraphs = subgraphs;
        _initializers = initializers;
        _chains = FusedChain.FindAll(_steps, reads, outputs);
    }

    /// <summary>The graph's inputs, for a subgraph run by a control-flow node (If, Loop).</summary>
    public IReadOnlyList<string> Inputs { get; private init; } = [];

    /// <summary>The caps the plan was built under; run-time checks (loop iterations) read them too.</summary>
    public ImportLimits Limits { get; private init; } = ImportLimits.Default;

    public static GraphPlan Build(GraphProto graph, IReadOnlyDictionary<string, int> opsets, OnnxLoadOptions options, IEnumerable<string> outerNames, int depth)
    {
        if (depth > options.Limits.MaxSubgraphDepth) throw new OnnxImportException($"subgraphs nest deeper than {options.Limits.MaxSubgraphDepth}.");
        if (graph.Node.Count > options.Limits.MaxNodes) throw new OnnxImportException($"the graph has {graph.Node.Count} nodes, over the limit of {options.Limits.MaxNodes}.");
        var unsupported = new List<string>();
        var bound = new (NodeProto, INodeImporter, int)[graph.Node.Count];
        var subgraphs = new Dictionary<NodeProto, Dictionary<string, GraphPlan>>(ReferenceEqualityComparer.Instance);
        // Names a subgraph may read from its enclosing scopes: everything this graph and the graphs around it define.
        var visible = new HashSet<string>(outerNames, StringComparer.Ordinal);
        visible.UnionWith(graph.Input.Select(i => i.Name));
        visible.UnionWith(graph.Initializer.Select(i => i.Name));
        visible.UnionWith(graph.Node.SelectMany(n => n.Output).Where(o => o.Length > 0));
        for (var i = 0; i < graph.Node.Count; i++)
        {
            var node = graph.Node[i];
            foreach (var attribute in node.Attribute.Where(a => a.G is not null))
            {
                try
                {
                    var plan = Build(attribute.G, opsets, options, visible, depth + 1);
                    if (!subgraphs.TryGetValue(node, out var byName)) subgraphs[node] = byName = new Dictionary<string, GraphPlan>(StringComparer.Ordinal);
                    byName[attribute.Name] = plan;
                }
                catch (UnsupportedOpsException e)
                {
                    unsupported.AddRange(e.Nodes.Select(line => $"{line} (in subgraph '{attribute.Name}' of node '{NodeName(node)}')"));
                }
            }
            var domain = node.Domain == "ai.onnx" ? "" : node.Domain;
            if (!opsets.TryGetValue(domain, out var opset))
            {
                unsupported.Add($"{node.OpType} (domain '{domain}') at node '{node.Name}': the model imports no opset for domain '{domain}'");
                continue;
            }
            var importer = options.Importers.Find(domain, node.OpType, opset) ?? PluginImporter(domain, node.OpType, opset) ?? PluginOp(domain, node.OpType, opset);
            if (importer is null)
            {
                var versions = options.Importers.Versions(domain, node.OpType);
                unsupported.Add($"{node.OpType} (domain '{domain}', opset {opset}) at node '{node.Name}'; supported versions: {(versions.Length == 0 ? "none" : versions)}");
                continue;
            }
            if (importer.Unsupported(node) is { } reason)
            {
                unsupported.Add($"{node.OpType} (domain '{domain}', opset {opset}) at node '{node.Name}': {reason}");
                continue;
            }
            bound[i] = (node, importer, opset);
        }
        if (unsupported.Count > 0) throw new UnsupportedOpsException(unsupported);
        var reads = graph.Node.Select(Reads).ToArray();
        var order = Order(graph, outerNames, reads);
        var initializers = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        if (depth > 0)
        {
            // A subgraph's own initializers are constants of that branch or body (not trainable parameters of the model).
            foreach (var init in graph.Initializer) initializers[init.Name] = TensorConverter.ToTensor(init, options.Limits);
        }
        return new GraphPlan(order.Select(i => bound[i]).ToArray(), order.Select(i => reads[i]).ToArray(), graph.Output.Select(o => o.Name).ToArray(), subgraphs, initializers)
        {
            Inputs = graph.Input.Select(i => i.Name).ToArray(),
            Limits = options.Limits,
        };
    }

    /// <summary>Topological order (Kahn); undefined inputs and cycles are errors naming the node.</summary>
    private static List<int> Order(GraphProto graph, IEnumerable<string> outerNames, string[][] reads)
    {
        var available = new HashSet<string>(outerNames, StringComparer.Ordinal);
        foreach (var i in graph.Input) available.Add(i.Name);
        foreach (var i in graph.Initializer) available.Add(i.Name);
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var n = 0; n < graph.Node.Count; n++)
        {
            foreach (var o in graph.Node[n].Output)
            {
                if (o.Length == 0) continue;
                if (producer.ContainsKey(o) || available.Contains(o))
                    throw new OnnxImportException($"output '{o}' is produced twice (SSA violated).", node: NodeName(graph.Node[n]));
                producer[o] = n;
            }
        }
        var pending = new int[graph.Node.Count];
        var consumers = new List<int>[graph.Node.Count];
        for (var n = 0; n < graph.Node.Count; n++)
        {
            consumers[n] = [];
            foreach (var input in reads[n])
            {
                if (input.Length == 0 || available.Contains(input)) continue;
                if (!producer.TryGetValue(input, out _))
                    throw new OnnxImportException($"input '{input}' is not defined by any graph input, initializer or node.", node: NodeName(graph.Node[n]));
                pending[n]++;
            }
        }
        for (var n = 0; n < graph.Node.Count; n++)
        {
            foreach (var input in reads[n])
            {
                if (input.Length > 0 && !available.Contains(input) && producer.TryGetValue(input, out var p)) consumers[p].Add(n);
            }
        }
        var order = new List<int>();
        var ready = new Queue<int>(Enumerable.Range(0, graph.Node.Count).Where(n => pending[n] == 0));
        while (ready.Count > 0)
        {
            var n = ready.Dequeue();
            order.Add(n);
            foreach (var c in consumers[n])
            {
                if (--pending[c] == 0) ready.Enqueue(c);
            }
        }
        if (order.Count != graph.Node.Count)
        {
            var stuck = Enumerable.Range(0, graph.Node.Count).First(n => pending[n] > 0);
            throw new OnnxImportException("the graph has a cycle through this node.", node: NodeName(graph.Node[stuck]));
        }
        foreach (var o in graph.Output)
        {
            if (!available.Contains(o.Name) && !producer.ContainsKey(o.Name))
                throw new OnnxImportException($"graph output '{o.Name}' is not produced by any node.");
        }
        return order;
    }

    /// <summary>What a node reads: its inputs and, for control flow, the outer values its subgraphs use.</summary>
    private static string[] Reads(NodeProto node) =>
        node.Attribute.Any(a => a.G is not null)
            ? node.Input.Concat(node.Attribute.Where(a => a.G is not null).SelectMany(a => OuterReads(a.G))).Distinct().ToArray()
            : [.. node.Input];

    /// <summary>Names a subgraph (and the subgraphs inside it) reads from enclosing scopes: used but not defined inside.</summary>
    private static IEnumerable<string> OuterReads(GraphProto g)
    {
        var defined = new HashSet<string>(g.Input.Select(i => i.Name).Concat(g.Initializer.Select(i => i.Name)).Concat(g.Node.SelectMany(n => n.Output)), StringComparer.Ordinal);
        var used = g.Node.SelectMany(n => n.Input.Concat(n.Attribute.Where(a => a.G is not null).SelectMany(a => OuterReads(a.G)))).Concat(g.Output.Select(o => o.Name));
        return used.Where(u => u.Length > 0 && !defined.Contains(u)).Distinct();
    }

    /// <summary>
    /// A node importer a loaded plugin contributed (registered as a kernel of contract <see cref="INodeImporter"/>), for
    /// nodes whose attributes or inputs need mapping before they reach the plugin's ops.
    /// </summary>
    private static INodeImporter? PluginImporter(string domain, string opType, int opset) =>
        TensorRuntime.Current is Backprop.Runtime.BackpropRuntime rt
            ? rt.Kernels.GetAll<INodeImporter>().FirstOrDefault(i => i.Domain == domain && i.OpType == opType && i.SinceVersion <= opset && opset <= i.UntilVersion)
            : null;

    /// <summary>A custom-domain node served by a loaded plugin op of the same domain and name.</summary>
    private static INodeImporter? PluginOp(string domain, string opType, int opset)
    {
        if (domain.Length == 0 || TensorRuntime.Current is not Backprop.Runtime.BackpropRuntime rt) return null;
        return rt.Ops.Resolve(domain, opType, opset) is null ? null : new PluginOpImporter(domain, opType);
    }

    private static string NodeName(NodeProto n) => string.IsNullOrEmpty(n.Name) ? $"{n.OpType}({string.Join(",", n.Output)})" : n.Name;

    public Dictionary<string, Tensor> Run(Dictionary<string, Tensor> env, bool training, Random? random = null, IReadOnlyCollection<string>? wanted = null,
        bool batchStatistics = true, ModelHooks? hooks = null)
    {
        var outputs = wanted ?? (IReadOnlyCollection<string>)_outputs;
        var steps = wanted is null ? Enumerable.Range(0, _steps.Length).ToList() : Needed(wanted, env.Keys);
        var watching = hooks is { Backward.Length: > 0 } && Backprop.Runtime.GradMode.IsEnabled;
        var readers = watching ? Readers(steps.Select(i => _steps[i])) : null;
        if (watching)
        {
            foreach (var (name, t) in env) hooks!.Watch(t, name, null);
        }
        // Fused convolution chains only where no one can see the values inside them: nothing recorded, no hooks, inference
        // statistics, no value inside a chain asked for, and the chain's last node among the steps run.
        var unobserved = !Backprop.Runtime.GradMode.IsEnabled && hooks is not { Forward.Length: > 0 } && hooks is not { Backward.Length: > 0 };
        var fuse = unobserved && _chains.Count > 0 && !(training && batchStatistics);
        // Chains whose fused op has rules of its own also run fused while gradients are recorded, as long as no hook watches.
        var fuseRecorded = !unobserved && Backprop.Runtime.GradMode.IsEnabled && hooks is not { Forward.Length: > 0 } && hooks is not { Backward.Length: > 0 }
            && _chains.Count > 0;
        var running = wanted is null ? null : steps.ToHashSet();
        bool Fusable(FusedChain c) => wanted is null || running!.Contains(c.Steps[^1]) && !c.Steps[..^1].Any(m => _steps[m].Node.Output.Any(wanted.Contains));
        NodeContext Context(int step, Tensor?[] inputs) => new(_steps[step].Node, inputs, _steps[step].Opset, training, random, batchStatistics)
        {
            Subgraphs = _subgraphs.GetValueOrDefault(_steps[step].Node),
            Scope = env,
            Limits = Limits,
            RunSubgraph = (plan, scope) => plan.RunBody(scope, training, random, batchStatistics, hooks),
        };
        // Without recording or hooks nothing outside the run can hold an intermediate value, so buffers are lent from the
        // plan's pool and given back after their last reader (subgraph scopes are not tracked: plans with If/Loop do not pool).
        var pooled = unobserved && _subgraphs.Count == 0;
        using var lease = pooled ? _pool.Lease() : null;
        Dictionary<int, List<string>> LastReads() =>
            Lifetimes.LastReads(_steps, _reads, steps, i => fuse && _chains.TryGetValue(i, out var c) && Fusable(c) ? c.Steps[^1] : i, outputs);
        // A whole-plan run's lifetimes depend only on whether chains fuse: computed once per plan for each case.
        var release = !pooled ? null : wanted is not null ? LastReads() : _lastReads[fuse ? 1 : 0] ??= LastReads();
        void Settle(int position, IEnumerable<int> ran)
        {
            if (lease is null) return;
            foreach (var output in ran.SelectMany(i => _steps[i].Node.Output))
            {
                if (output.Length > 0 && env.TryGetValue(output, out var t)) lease.Hold(t);
            }
            foreach (var name in release!.GetValueOrDefault(position) ?? [])
            {
                if (env.Remove(name, out var t)) lease.Release(t);
            }
        }
        foreach (var index in steps)
        {
            if ((fuse || fuseRecorded) && _chains.TryGetValue(index, out var chain) && (fuse || chain.WhileRecording) && Fusable(chain))
            {
                if (chain.Steps[^1] != index) continue;
                var fused = false;
                try
                {
                    fused = chain.TryRun(_steps, env, step => Context(step, _steps[step].Node.Input.Select(n => n.Length == 0 ? null : env.GetValueOrDefault(n)).ToArray()));
                }
                catch (BackpropException e) when (e is not OnnxImportException)
                {
                    throw new OnnxImportException($"{_steps[chain.Steps[0]].Node.OpType} failed: {e.Message}", node: NodeName(_steps[chain.Steps[0]].Node), inner: e);
                }
                if (!fused)
                {
                    foreach (var member in chain.Steps.Order()) RunStep(member, env, Context, hooks, watching, readers);
                }
                Settle(index, chain.Steps);
                continue;
            }
            RunStep(index, env, Context, hooks, watching, readers);
            Settle(index, [index]);
        }
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var o in outputs)
        {
            result[o] = env.TryGetValue(o, out var t) ? t
                : throw new OnnxImportException($"'{o}' was not computed: the node that should produce it does not support that optional output.");
        }
        return result;
    }

    /// <summary>Runs plan step <paramref name="index"/> through its importer and stores its outputs in <paramref name="env"/>.</summary>
    private void RunStep(int index, Dictionary<string, Tensor> env, Func<int, Tensor?[], NodeContext> context, ModelHooks? hooks, bool watching, Dictionary<string, int>? readers)
    {
        var (node, importer, _) = _steps[index];
        var inputs = node.Input.Select(n => n.Length == 0 ? null : env.TryGetValue(n, out var t) ? t : throw new OnnxImportException($"input '{n}' has no value.", node: NodeName(node))).ToArray();
        if (watching) ShareEdges(node, inputs, readers!, hooks!);
        var ctx = context(index, inputs);
        Tensor?[] produced;
        try
        {
            produced = importer.Run(ctx);
        }
        catch (BackpropException e) when (e is not OnnxImportException)
        {
            throw new OnnxImportException($"{node.OpType} failed: {e.Message}", node: ctx.Name, inner: e);
        }
        catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or OverflowException or DivideByZeroException or InvalidCastException or InvalidOperationException or FormatException)
        {
            // Defence in depth for hostile models: an importer that trips over attribute or input values it failed to
            // validate still yields the typed error naming the node (the fuzzer counts these separately so they get fixed).
            throw new OnnxImportException($"{node.OpType} cannot run with this node's attributes or inputs ({e.GetType().Name}: {e.Message})", node: ctx.Name, inner: e);
        }
        for (var k = 0; k < node.Output.Count && k < produced.Length; k++)
        {
            if (node.Output[k].Length > 0 && produced[k] is { } t)
            {
                env[node.Output[k]] = t;
                if (watching) hooks!.Watch(t, node.Output[k], NodeName(node));
            }
        }
        if (hooks is { Forward.Length: > 0 } h) Notify(h, node, inputs, produced);
    }

    /// <summary>Runs this plan as a subgraph on <paramref name="scope"/> (enclosing values and the subgraph's inputs); its outputs in order.</summary>
    private Tensor[] RunBody(Dictionary<string, Tensor> scope, bool training, Random? random, bool batchStatistics, ModelHooks? hooks)
    {
        foreach (var (k, v) in _initializers) scope[k] = v;
        var result = Run(scope, training, random, null, batchStatistics, hooks);
        return _outputs.Select(o => result[o]).ToArray();
    }

    /// <summary>How many node inputs read each value among <paramref name="steps"/>.</summary>
    private static Dictionary<string, int> Readers(IEnumerable<PlanStep> steps)
    {
        var count = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (node, _, _) in steps)
        {
            foreach (var input in node.Input.Where(i => i.Length > 0)) count[input] = count.GetValueOrDefault(input) + 1;
        }
        return count;
    }

    /// <summary>
    /// For a value read by several nodes, gives this node its own alias (a shared-buffer view recorded as one op) so the
    /// share of the gradient it sends back can be seen apart from the others'.
    /// </summary>
    private static void ShareEdges(NodeProto node, Tensor?[] inputs, Dictionary<string, int> readers, ModelHooks hooks)
    {
        for (var i = 0; i < inputs.Length; i++)
        {
            if (inputs[i] is not { RequiresGrad: true } t || readers.GetValueOrDefault(node.Input[i]) < 2) continue;
            var alias = Ops.Call("Reshape", OpAttributes.Of(("shape", t.Shape.ToArray())), t);
            var (value, consumer) = (node.Input[i], NodeName(node));
            alias.RegisterHook(g => { hooks.Report(new GradientFlow(value, null, consumer, g)); return null; });
            inputs[i] = alias;
        }
    }

    private static void Notify(ModelHooks hooks, NodeProto node, Tensor?[] inputs, Tensor?[] produced)
    {
        var activity = new NodeActivity(NodeName(node), node.OpType,
            node.Input.Select((n, i) => (n, i < inputs.Length ? inputs[i] : null)).ToList(),
            node.Output.Select((n, k) => (n, k < produced.Length ? produced[k] : null)).ToList());
        foreach (var f in hooks.Forward) f(activity);
    }

    /// <summary>The nodes in the order they run, with the names used in errors and hooks.</summary>
    public IEnumerable<(NodeProto Node, string Name)> Nodes => _steps.Select(s => (s.Node, NodeName(s.Node)));

    /// <summary>True when some node produces <paramref name="name"/>.</summary>
    public bool Produces(string name) => _steps.Any(s => s.Node.Output.Contains(name));

    /// <summary>The steps needed to compute <paramref name="wanted"/> from <paramref name="known"/> values, in order.</summary>
    private List<int> Needed(IReadOnlyCollection<string> wanted, IEnumerable<string> known)
    {
        var need = new HashSet<string>(wanted, StringComparer.Ordinal);
        need.ExceptWith(known);
        var keep = new bool[_steps.Length];
        for (var i = _steps.Length - 1; i >= 0; i--)
        {
            if (!_steps[i].Node.Output.Any(need.Contains)) continue;
            keep[i] = true;
            need.UnionWith(_reads[i]);
        }
        return Enumerable.Range(0, _steps.Length).Where(i => keep[i]).ToList();
    }
}
