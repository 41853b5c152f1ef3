using System.Globalization;

namespace Backprop.Diagnostics;

/// <summary>A summary of one tensor's values: L2 norm, largest magnitude, fraction of exact zeros, non-finite count.</summary>
/// <param name="Norm">Euclidean norm over all elements (NaN when any element is non-finite).</param>
/// <param name="MaxAbs">Largest finite magnitude.</param>
/// <param name="ZeroFraction">Fraction of elements that are exactly zero.</param>
/// <param name="NonFinite">Number of NaN or infinite elements.</param>
/// <param name="Count">Number of elements.</param>
public readonly record struct TensorStats(double Norm, double MaxAbs, double ZeroFraction, long NonFinite, long Count)
{
    /// <summary>Summarises <paramref name="t"/> (any dtype; bool counts false as zero).</summary>
    public static TensorStats Of(Tensor t)
    {
        double sum = 0, max = 0;
        long zeros = 0, bad = 0;
        void Add(double v)
        {
            if (v == 0) zeros++;
            else if (!double.IsFinite(v)) bad++;
            else
            {
                sum += v * v;
                max = Math.Max(max, Math.Abs(v));
            }
        }
        switch (t.DType)
        {
            case DType.Float32:
                foreach (var v in t.Span<float>()) Add(v);
                break;
            case DType.Float64:
                foreach (var v in t.Span<double>()) Add(v);
                break;
            default:
                for (var i = 0; i < t.Size; i++) Add(t.GetAsDouble(i));
                break;
        }
        var n = Math.Max(1, t.Size);
        return new TensorStats(bad > 0 ? double.NaN : Math.Sqrt(sum), max, (double)zeros / n, bad, t.Size);
    }

    /// <summary>A short number for labels: 3 significant digits, exponent form when very large or small.</summary>
    public static string Format(double v) => double.IsNaN(v) ? "NaN" : double.IsInfinity(v) ? (v > 0 ? "∞" : "-∞")
        : v == 0 ? "0"
        : Math.Abs(v) is >= 1e-3 and < 1e4 ? v.ToString("0.###", CultureInfo.InvariantCulture)
        : v.ToString("0.##e+0", CultureInfo.InvariantCulture);
}
