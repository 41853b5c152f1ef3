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

    private static double SumOfSquares(Tensor g) => g.DType == DType.Float32 ? SumOfSquares(g.Span<float>()) : SumOfSquares(g.Span<double>());

    /// <summary>Σ x² in double, a SIMD vector at a time (lanes widened to double), in two independent accumulators.</summary>
    private static double SumOfSquares(ReadOnlySpan<float> values)
    {
        Vector<double> s0 = default, s1 = default;
        var i = 0;
        for (; i + Vector<float>.Count <= values.Length; i += Vector<float>.Count)
        {
            Vector.Widen(new Vector<float>(values[i..]), out var low, out var high);
            s0 += low * low;
            s1 += high * high;
        }
        var sum = Vector.Sum(s0) + Vector.Sum(s1);
        for (; i < values.Length; i++) sum += (double)values[i] * values[i];
        return sum;
    }

    /// <summary>Σ x², a SIMD vector at a time, in two independent accumulators.</summary>
    private static double SumOfSquares(ReadOnlySpan<double> values)
    {
        Vector<double> s0 = default, s1 = default;
        var (width, i) = (Vector<double>.Count, 0);
        for (; i + 2 * width <= values.Length; i += 2 * width)
        {
            var (x0, x1) = (new Vector<double>(values[i..]), new Vector<double>(values[(i + width)..]));
            s0 += x0 * x0;
            s1 += x1 * x1;
        }
        var sum = Vector.Sum(s0) + Vector.Sum(s1);
        for (; i < values.Length; i++) sum += values[i] * values[i];
        return sum;
    }
}
