using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Plugins.Core;

/// <summary>
/// The first-order backward of <see cref="LayerNorm"/> in one pass per row (γ and β covering the normalised axes): with
/// x̂ = (x − μ)·r recomputed from the row, ḡ = g·γ and ⟨·⟩ the row mean, ∂x = r·(ḡ − ⟨ḡ⟩ − x̂·⟨ḡ·x̂⟩), ∂γ = Σ_rows g·x̂,
/// ∂β = Σ_rows g. Rows are split between the cores; each sums ∂γ and ∂β into its own copy, added up at the end.
/// </summary>
internal static class LayerNormGrad
{
    public static void Rows<T>(Tensor x, Tensor gamma, Tensor g, Tensor? dx, Tensor? dgamma, Tensor? dbeta, int row, double eps)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rows = x.Size / row;
        var parts = (long)x.Size >= 1 << 15 ? Math.Min(KernelThreads.Threads, rows) : 1;
        var partials = new T[parts][];
        void Part(int part)
        {
            if (part >= parts) return;
            var (first, last) = ((int)((long)rows * part / parts), (int)((long)rows * (part + 1) / parts));
            var sums = partials[part] = new T[2 * row];
            var sumGamma = sums.AsSpan(0, row);
            var sumBeta = sums.AsSpan(row, row);
            var normalised = Scratch<T>.Get(3, row).AsSpan(0, row);
            var scaled = Scratch<T>.Get(4, row).AsSpan(0, row);
            ReadOnlySpan<T> xs = x.Span<T>(), gs = g.Span<T>(), gam = gamma.Span<T>();
            var n = T.CreateTruncating(row);
            for (var r = first; r < last; r++)
            {
                var xr = xs.Slice(r * row, row);
                var gr = gs.Slice(r * row, row);
                var mean = TensorPrimitives.Sum(xr) / n;
                TensorPrimitives.Subtract(xr, mean, normalised);
                var inv = T.One / T.Sqrt(TensorPrimitives.SumOfSquares<T>(normalised) / n + T.CreateTruncating(eps));
                TensorPrimitives.Multiply(normalised, inv, normalised);
                if (dgamma is not null) TensorPrimitives.FusedMultiplyAdd(gr, normalised, sumGamma, sumGamma);
                if (dbeta is not null) TensorPrimitives.Add(gr, sumBeta, sumBeta);
                if (dx is null) continue;
                TensorPrimitives.Multiply(gr, gam, scaled);
                var a = TensorPrimitives.Sum<T>(scaled) / n;
                var b = TensorPrimitives.Dot<T>(scaled, normalised) / n;
                var dr = dx.Span<T>().Slice(r * row, row);
                // r·(ḡ − a − x̂·b) = r·ḡ + x̂·(−r·b) − r·a
                TensorPrimitives.Multiply(normalised, -inv * b, dr);
                TensorPrimitives.FusedMultiplyAdd(scaled, inv, dr, dr);
                TensorPrimitives.Subtract(dr, inv * a, dr);
            }
        }
        if (parts == 1) Part(0);
        else KernelThreads.ForEachThread(Part);
        foreach (var sums in partials)
        {
            if (dgamma is not null) TensorPrimitives.Add(sums.AsSpan(0, row), dgamma.Span<T>(), dgamma.Span<T>());
            if (dbeta is not null) TensorPrimitives.Add(sums.AsSpan(row, row), dbeta.Span<T>(), dbeta.Span<T>());
        }
    }
}
