using Backprop.Runtime;

namespace Backprop.Onnx;

/// <summary>
/// Derivatives of an imported model: gradients of L = Σ ⟨seed, output⟩ with respect to every floating-point input and
/// initializer, forward-mode tangents of the outputs, and Hessian-vector products of L — the `backprop grad | jvp | hvp` verbs.
/// </summary>
public static class ModelCalculus
{
    /// <summary>∂L/∂t for every floating-point graph input and initializer t (zeros where no gradient flows).</summary>
    public static Dictionary<string, Tensor> Grad(OnnxModel model, IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyDictionary<string, Tensor> seeds)
    {
        var leaves = Leaves(model, inputs);
        var (outputs, seedList) = Seeded(model, model.Run(leaves), seeds);
        var names = leaves.Where(p => p.Value.DType.IsFloatingPoint()).Select(p => p.Key).ToArray();
        var grads = Autograd.Grad(outputs, names.Select(n => leaves[n]).ToArray(), seedList);
        return names.Select((n, i) => (n, grads[i]!)).ToDictionary(p => p.n, p => p.Item2, StringComparer.Ordinal);
    }

    /// <summary>Tangents of every output given tangents of some inputs or initializers (the rest have zero tangent).</summary>
    public static Dictionary<string, Tensor> Jvp(OnnxModel model, IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyDictionary<string, Tensor> tangents)
    {
        using var level = ForwardAD.Enter();
        var values = Values(model, inputs);
        foreach (var (name, tangent) in tangents)
        {
            var primal = Named(values, name, "--tangent");
            values[name] = ForwardAD.MakeDual(primal, Matching(tangent, primal, name), level);
        }
        using var _ = GradMode.NoGrad();
        return model.Run(values).ToDictionary(p => p.Key, p => p.Value.DType.IsFloatingPoint() ? ForwardAD.Tangent(p.Value, level) : Tensor.ZerosLike(p.Value), StringComparer.Ordinal);
    }

    /// <summary>H·v of L with respect to the tensors named in <paramref name="directions"/>, forward-over-reverse or reverse-over-reverse.</summary>
    public static Dictionary<string, Tensor> Hvp(OnnxModel model, IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyDictionary<string, Tensor> seeds,
        IReadOnlyDictionary<string, Tensor> directions, DiffMode mode = DiffMode.ForwardOverReverse)
    {
        var leaves = Leaves(model, inputs);
        var names = directions.Keys.ToArray();
        foreach (var n in names) Named(leaves, n, "--direction");
        var v = names.Select(n => Matching(directions[n], leaves[n], n)).ToArray();
        if (mode == DiffMode.ForwardOverReverse)
        {
            using var level = ForwardAD.Enter();
            var duals = new Dictionary<string, Tensor>(leaves, StringComparer.Ordinal);
            for (var i = 0; i < names.Length; i++) duals[names[i]] = ForwardAD.MakeDual(leaves[names[i]], v[i], level);
            var (outputs, seedList) = Seeded(model, model.Run(duals), seeds);
            var grads = Autograd.Grad(outputs, names.Select(n => duals[n]).ToArray(), seedList);
            return names.Select((n, i) => (n, ForwardAD.Tangent(grads[i]!, level))).ToDictionary(p => p.n, p => p.Item2, StringComparer.Ordinal);
        }
        if (mode != DiffMode.ReverseOverReverse) throw new ArgumentException($"HVP mode must be forward-over-reverse or reverse-over-reverse, not {mode}.", nameof(mode));
        var (outs, seedTensors) = Seeded(model, model.Run(leaves), seeds);
        var first = Autograd.Grad(outs, names.Select(n => leaves[n]).ToArray(), seedTensors, createGraph: true);
        var differentiable = Enumerable.Range(0, names.Length).Where(i => first[i]!.RequiresGrad).ToArray();
        var result = names.ToDictionary(n => n, n => Tensor.ZerosLike(leaves[n]), StringComparer.Ordinal);
        if (differentiable.Length == 0) return result; // L is linear in the named tensors
        var second = Autograd.Grad(differentiable.Select(i => first[i]!).ToArray(), names.Select(n => leaves[n]).ToArray(), differentiable.Select(i => (Tensor?)v[i]).ToArray());
        for (var i = 0; i < names.Length; i++) result[names[i]] = second[i]!;
        return result;
    }

    private static Dictionary<string, Tensor> Values(OnnxModel model, IReadOnlyDictionary<string, Tensor> inputs)
    {
        var values = new Dictionary<string, Tensor>(model.Parameters, StringComparer.Ordinal);
        foreach (var (k, t) in inputs) values[k] = t;
        return values;
    }

    /// <summary>Inputs and initializers as fresh leaves; floating-point ones require grad.</summary>
    private static Dictionary<string, Tensor> Leaves(OnnxModel model, IReadOnlyDictionary<string, Tensor> inputs)
    {
        var leaves = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (k, t) in Values(model, inputs))
        {
            var leaf = t.Detach();
            if (leaf.DType.IsFloatingPoint()) leaf.RequiresGrad = true;
            leaves[k] = leaf;
        }
        return leaves;
    }

    private static (Tensor[] Outputs, Tensor?[] Seeds) Seeded(OnnxModel model, Dictionary<string, Tensor> outputs, IReadOnlyDictionary<string, Tensor> seeds)
    {
        if (seeds.Count == 0) throw new OnnxImportException("at least one --seed OUTPUT=FILE is needed.");
        var list = new List<Tensor>();
        var seedList = new List<Tensor?>();
        foreach (var (name, seed) in seeds)
        {
            if (!outputs.TryGetValue(name, out var output))
                throw new OnnxImportException($"--seed '{name}' is not an output of the model; outputs: {string.Join(", ", outputs.Keys)}.");
            if (!output.DType.IsFloatingPoint()) throw new OnnxImportException($"--seed '{name}': output is {output.DType}, which carries no gradient.");
            list.Add(output);
            seedList.Add(Matching(seed, output, name));
        }
        var reachable = list.Select((o, i) => (o, i)).Where(p => p.o.RequiresGrad).ToArray();
        if (reachable.Length == 0) throw new OnnxImportException("no seeded output depends on a floating-point input or initializer.");
        return (reachable.Select(p => p.o).ToArray(), reachable.Select(p => seedList[p.i]).ToArray());
    }

    private static Tensor Named(Dictionary<string, Tensor> values, string name, string option) =>
        values.TryGetValue(name, out var t) ? t
        : throw new OnnxImportException($"{option} '{name}' is neither a graph input nor an initializer of the model.");

    private static Tensor Matching(Tensor given, Tensor like, string name)
    {
        if (given.Shape != like.Shape) throw new OnnxImportException($"'{name}' has shape {given.Shape} but the model's tensor has shape {like.Shape}.");
        if (!like.DType.IsFloatingPoint()) throw new OnnxImportException($"'{name}' is {like.DType}, which carries no derivative.");
        if (!given.DType.IsFloatingPoint()) throw new OnnxImportException($"'{name}' was given as {given.DType}; a floating-point tensor is needed.");
        using var _ = GradMode.NoGrad();
        return Ops.Cast(given, like.DType).Detach();
    }
}
