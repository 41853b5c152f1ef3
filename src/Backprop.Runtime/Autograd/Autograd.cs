namespace Backprop.Runtime;

/// <summary>Reverse-mode entry points.</summary>
public static class Autograd
{
    /// <summary>
    /// Accumulates d(Σ ⟨seedᵢ, outputᵢ⟩)/d(leaf) into every reachable leaf's <see cref="Tensor.Grad"/>.
    /// Seeds default to one for one-element outputs. The graph is freed unless <paramref name="retainGraph"/>;
    /// with <paramref name="createGraph"/> the gradients are themselves recorded (higher order).
    /// </summary>
    public static void Backward(Tensor[] outputs, Tensor?[]? seeds = null, bool retainGraph = false, bool createGraph = false) =>
        BackwardPass.Run(outputs, seeds, null, retainGraph || createGraph, createGraph);

    /// <summary>
    /// Returns d(Σ ⟨seedᵢ, outputᵢ⟩)/d(inputⱼ) without touching any .Grad. Inputs may be leaves or
    /// intermediate tensors; an input no gradient reaches gets zeros (or null when
    /// <paramref name="materializeZeros"/> is false).
    /// </summary>
    public static Tensor?[] Grad(Tensor[] outputs, Tensor[] inputs, Tensor?[]? seeds = null, bool createGraph = false,
        bool? retainGraph = null, bool materializeZeros = true)
    {
        var result = BackwardPass.Run(outputs, seeds, inputs, retainGraph ?? createGraph, createGraph)!;
        if (materializeZeros)
        {
            for (var i = 0; i < result.Length; i++) result[i] ??= Tensor.ZerosLike(inputs[i]);
        }
        return result;
    }

    /// <summary>Gradient of one output with respect to one input.</summary>
    public static Tensor Grad(Tensor output, Tensor input, Tensor? seed = null, bool createGraph = false, bool? retainGraph = null) =>
        Grad([output], [input], seed is null ? null : [seed], createGraph, retainGraph)[0]!;
}
