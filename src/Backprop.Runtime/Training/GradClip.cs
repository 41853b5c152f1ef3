using System.Numerics;
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
        var norm = Math.Sqrt(withGrad.Sum(p => SumOfSquares(p.Grad!)));
        var scale = maxNorm / (norm + 1e-6);
        if (scale >= 1 || !double.IsFinite(norm)) return norm;
        // New tensors rather than in-place scaling: a gradient buffer may be shared (fan-out passes seeds through).
        using var _ = GradMode.NoGrad();
        foreach (var p in withGrad) p.Grad = p.Grad! * Ops.ScalarLike(p.Grad!, scale);
        return norm;
    }

    /// <summary>Σ x² in double, a SIMD vector at a time (float32 lanes widened), in several independent accumulators.</summary>
    private static double SumOfSquares(Tensor g)
    {
        var values = g.DType == DType.Float32 ? g.Span<float>() : default;
        var doubles = g.DType == DType.Float32 ? default : g.Span<double>();
        Vector<double> s0 = default, s1 = default;
        var width = Vector<float>.Count;
        var i = 0;
        for (; i + width <= values.Length; i += width)
        {
            Vector.Widen(new Vector<float>(values[i..]), out var low, out var high);
            s0 += low * low;
            s1 += high * high;
        }
        double sum = Vector.Sum(s0) + Vector.Sum(s1);
        for (; i < values.Length; i++) sum += (double)values[i] * values[i];
        var dw = Vector<double>.Count;
        (s0, s1) = (default, default);
        i = 0;
        for (; i + 2 * dw <= doubles.Length; i += 2 * dw)
        {
            var (x0, x1) = (new Vector<double>(doubles[i..]), new Vector<double>(doubles[(i + dw)..]));
            s0 += x0 * x0;
            s1 += x1 * x1;
        }
        sum += Vector.Sum(s0) + Vector.Sum(s1);
        for (; i < doubles.Length; i++) sum += doubles[i] * doubles[i];
        return sum;
    }
}
