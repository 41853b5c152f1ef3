using Backprop.Runtime;

namespace Backprop.Training;

/// <summary>Gradient clipping.</summary>
public static class GradClip
{
    /// <summary>
    /// Scales every gradient by min(1, maxNorm / (‖g‖ + 1e-6)), where ‖g‖ is the L2 norm of all gradients together
    /// (as torch.nn.utils.clip_grad_norm_). Returns the norm before clipping (NaN or ∞ when a gradient is not finite).
    /// </summary>
    public static double ClipGlobalNorm(IEnumerable<Tensor> parameters, double maxNorm)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxNorm);
        var withGrad = parameters.Where(p => p.Grad is not null).ToList();
        double sum = 0;
        foreach (var g in withGrad.Select(p => p.Grad!))
        {
            if (g.DType == DType.Float32) foreach (var v in g.Span<float>()) sum += (double)v * v;
            else foreach (var v in g.Span<double>()) sum += v * v;
        }
        var norm = Math.Sqrt(sum);
        var scale = maxNorm / (norm + 1e-6);
        if (scale >= 1 || !double.IsFinite(norm)) return norm;
        // New tensors rather than in-place scaling: a gradient buffer may be shared (fan-out passes seeds through).
        using var _ = GradMode.NoGrad();
        foreach (var p in withGrad) p.Grad = p.Grad! * Ops.ScalarLike(p.Grad!, scale);
        return norm;
    }
}
