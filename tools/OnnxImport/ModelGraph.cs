using Backprop.Diagnostics;
using Backprop.Runtime;

namespace Backprop.Onnx;

/// <summary>
/// The picture of an imported model: its nodes and values as a <see cref="Graph"/>, and — after one forward and backward
/// pass — every value's shape, the gradient norm flowing back along every edge and what each ReLU or max blocks. What
/// `backprop graph` draws.
/// </summary>
public static class ModelGraph
{
    /// <summary>The model's structure: one graph node per ONNX node, initializers as parameters or constants.</summary>
    public static Graph Structure(OnnxModel model)
    {
        var graph = new Graph(string.IsNullOrEmpty(model.Proto.Graph.Name) ? "model" : model.Proto.Graph.Name);
        foreach (var i in model.Inputs) graph.Value(i.Name, ValueKind.Input);
        foreach (var (name, t) in model.Parameters) graph.Value(name, t.RequiresGrad ? ValueKind.Parameter : ValueKind.Constant).Observe(t);
        foreach (var (node, name) in model.Plan.Nodes)
            graph.AddNode(node.OpType, name, node.Input.Where(n => n.Length > 0), node.Output.Where(n => n.Length > 0));
        foreach (var o in model.Outputs) graph.Value(o.Name).Kind = ValueKind.Output;
        return graph;
    }

    /// <summary>
    /// Runs <paramref name="model"/> on <paramref name="inputs"/>, back-propagates L = Σ ⟨seed, output⟩ and records what flowed.
    /// Outputs without a seed get a standard normal one drawn with <paramref name="randomSeed"/> (a fixed random direction
    /// rather than ones, which would give softmax outputs a zero gradient). Parameters' <see cref="Tensor.Grad"/> are not touched.
    /// </summary>
    public static Graph Capture(OnnxModel model, IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyDictionary<string, Tensor>? seeds = null,
        int randomSeed = 0, bool backward = true)
    {
        var graph = Structure(model);
        var leaves = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (k, t) in model.Parameters.Concat(inputs))
        {
            var leaf = t.Detach();
            // Trainable initializers and floating-point inputs carry gradients; frozen initializers (buffers) do not.
            if (backward && leaf.DType.IsFloatingPoint() && (t.RequiresGrad || inputs.ContainsKey(k))) leaf.RequiresGrad = true;
            leaves[k] = leaf;
        }
        foreach (var i in model.Inputs)
        {
            if (leaves.TryGetValue(i.Name, out var t)) graph.Value(i.Name).Observe(t);
        }
        var byName = graph.Nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        using var forward = model.OnForward(a =>
        {
            foreach (var (name, t) in a.Outputs)
            {
                if (t is not null && graph.Find(name) is { } v) v.Observe(t);
            }
        });
        using var flow = model.OnBackward(f =>
        {
            if (f.Consumer is null) graph.Find(f.Value)?.ObserveGradient(f.Gradient);
            else if (byName.TryGetValue(f.Consumer, out var node)) node.Inputs.FirstOrDefault(e => e.Value.Name == f.Value)?.ObserveGradient(f.Gradient);
        });
        Dictionary<string, Tensor> outputs;
        using (backward ? null : GradMode.NoGrad()) outputs = model.Run(leaves);
        if (!backward) return graph;
        var random = new Random(randomSeed);
        var seeded = new List<(Tensor Output, Tensor Seed)>();
        foreach (var (name, y) in outputs)
        {
            if (!y.DType.IsFloatingPoint() || !y.RequiresGrad) continue;
            Tensor seed;
            if (seeds is not null && seeds.TryGetValue(name, out var given))
            {
                if (given.Shape != y.Shape) throw new OnnxImportException($"the seed for '{name}' has shape {given.Shape} but the output has shape {y.Shape}.");
                using (GradMode.NoGrad()) seed = Ops.Cast(given, y.DType).Detach();
            }
            else seed = Normal(y, random);
            seeded.Add((y, seed));
            graph.Value(name).ObserveGradient(seed);
        }
        foreach (var name in seeds?.Keys ?? [])
        {
            if (!outputs.ContainsKey(name)) throw new OnnxImportException($"--seed '{name}' is not an output of the model; outputs: {string.Join(", ", outputs.Keys)}.");
        }
        var targets = leaves.Values.Where(t => t.RequiresGrad).ToArray();
        if (seeded.Count > 0 && targets.Length > 0)
            Autograd.Grad(seeded.Select(s => s.Output).ToArray(), targets, seeded.Select(s => (Tensor?)s.Seed).ToArray(), materializeZeros: false);
        return graph;
    }

    /// <summary>
    /// Inputs for <paramref name="model"/> drawn at random from its declared shapes (symbolic dimensions set to 1), except
    /// those named in <paramref name="given"/>. Only floating-point inputs can be drawn; any other must be given.
    /// </summary>
    public static Dictionary<string, Tensor> RandomInputs(OnnxModel model, int randomSeed = 0, IReadOnlyCollection<string>? given = null)
    {
        var random = new Random(randomSeed);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var i in model.Inputs)
        {
            if (given?.Contains(i.Name) == true) continue;
            if (i.ElementType is not ("float" or "double"))
                throw new OnnxImportException($"input '{i.Name}' is {i.ElementType}; give it with --input (only floating-point inputs can be drawn at random).");
            var dims = (i.Dims ?? throw new OnnxImportException($"input '{i.Name}' declares no shape; give it with --input."))
                .Select(d => d is null or <= 0 ? 1 : checked((int)d.Value)).ToArray();
            var t = Normal(Tensor.Zeros(new Shape(dims)), random);
            result[i.Name] = i.ElementType == "double" ? Ops.Cast(t, DType.Float64) : t;
        }
        return result;
    }

    private static Tensor Normal(Tensor like, Random random)
    {
        var data = new float[like.Size];
        for (var k = 0; k < data.Length; k++)
        {
            var (u, v) = (1 - random.NextDouble(), random.NextDouble());
            data[k] = (float)(Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v));
        }
        var t = new Tensor(data, like.Shape);
        return like.DType == DType.Float32 ? t : Ops.Cast(t, like.DType);
    }
}
