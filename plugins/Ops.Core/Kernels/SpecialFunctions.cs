namespace Backprop.Plugins.Core;

/// <summary>Special functions .NET lacks, accurate to float64.</summary>
internal static class SpecialFunctions
{
    /// <summary>
    /// The error function. |x| ≤ 3: erf x = (2/√π)·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)), a series of positive
    /// terms (no cancellation). |x| &gt; 3: 1 − erfc x with erfc from its continued fraction.
    /// </summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        var a = Math.Abs(x);
        if (a > 6) return Math.Sign(x);
        double r;
        if (a <= 3)
        {
            var term = a;
            var sum = a;
            var x2 = a * a;
            for (var n = 0; n < 200 && term > sum * 1e-17; n++)
            {
                term *= 2 * x2 / (2 * n + 3);
                sum += term;
            }
            r = 2 / Math.Sqrt(Math.PI) * Math.Exp(-x2) * sum;
        }
        else
        {
            r = 1 - Erfc(a);
        }
        return x < 0 ? -r : r;
    }

    /// <summary>
    /// erf in float32 precision on SIMD vectors (<see cref="VectorErf"/>), far faster than the float64 <see cref="Erf"/>.
    /// </summary>
    public static void ErfSingle(ReadOnlySpan<float> x, Span<float> y)
    {
        var w = System.Numerics.Vector<float>.Count;
        var i = 0;
        for (; i <= x.Length - w; i += w) VectorErf.Erf(new System.Numerics.Vector<float>(x.Slice(i, w))).CopyTo(y.Slice(i, w));
        if (i == x.Length) return;
        // The ragged tail goes through the same vector form, zero-padded, so there is one formula to trust.
        Span<float> lanes = stackalloc float[w];
        x[i..].CopyTo(lanes);
        VectorErf.Erf(new System.Numerics.Vector<float>(lanes)).CopyTo(lanes);
        lanes[..(x.Length - i)].CopyTo(y[i..]);
    }

    /// <summary>GELU in float32, x·Φ(x) = ½x·(1 + erf(x/√2)), through the vector erf of <see cref="ErfSingle"/>.</summary>
    public static void GeluSingle(ReadOnlySpan<float> x, Span<float> y)
    {
        var w = System.Numerics.Vector<float>.Count;
        var (half, scale) = (new System.Numerics.Vector<float>(0.5f), new System.Numerics.Vector<float>((float)(1 / Math.Sqrt(2))));
        var i = 0;
        for (; i <= x.Length - w; i += w)
        {
            var v = new System.Numerics.Vector<float>(x.Slice(i, w));
            (half * v * (System.Numerics.Vector<float>.One + VectorErf.Erf(v * scale))).CopyTo(y.Slice(i, w));
        }
        if (i == x.Length) return;
        Span<float> lanes = stackalloc float[w];
        x[i..].CopyTo(lanes);
        var tail = new System.Numerics.Vector<float>(lanes);
        (half * tail * (System.Numerics.Vector<float>.One + VectorErf.Erf(tail * scale))).CopyTo(lanes);
        lanes[..(x.Length - i)].CopyTo(y[i..]);
    }

    /// <summary>
    /// GELU's input gradient in float32: dx = g·(Φ(x) + x·φ(x)) with Φ(x) = ½(1 + erf(x/√2)) and φ(x) = e^(−x²/2)/√(2π), on
    /// vectors (the erf of <see cref="ErfSingle"/>). <paramref name="x"/>, <paramref name="g"/> and <paramref name="dx"/> have equal lengths.
    /// </summary>
    public static void GeluGradSingle(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> dx)
    {
        var w = System.Numerics.Vector<float>.Count;
        var i = 0;
        for (; i <= x.Length - w; i += w)
            GeluGradVector(new System.Numerics.Vector<float>(x.Slice(i, w)), new System.Numerics.Vector<float>(g.Slice(i, w))).CopyTo(dx.Slice(i, w));
        if (i == x.Length) return;
        Span<float> xs = stackalloc float[w], gs = stackalloc float[w];
        x[i..].CopyTo(xs);
        g[i..].CopyTo(gs);
        GeluGradVector(new System.Numerics.Vector<float>(xs), new System.Numerics.Vector<float>(gs)).CopyTo(xs);
        xs[..(x.Length - i)].CopyTo(dx[i..]);
    }

    private static System.Numerics.Vector<float> GeluGradVector(System.Numerics.Vector<float> v, System.Numerics.Vector<float> g)
    {
        var half = new System.Numerics.Vector<float>(0.5f);
        var cdf = half * (System.Numerics.Vector<float>.One + VectorErf.Erf(v * new System.Numerics.Vector<float>((float)(1 / Math.Sqrt(2)))));
        var pdf = new System.Numerics.Vector<float>((float)(1 / Math.Sqrt(2 * Math.PI))) * VectorErf.Exp(-half * v * v);
        return g * (cdf + v * pdf);
    }

    /// <summary>erfc for x &gt; 0 by the continued fraction e^(−x²)/√π · 1/(x + ½/(x + 1/(x + (3/2)/(x + …)))) (modified Lentz).</summary>
    private static double Erfc(double x)
    {
        const double tiny = 1e-300;
        var f = x;
        var c = x;
        var d = 0.0;
        for (var n = 1; n < 300; n++)
        {
            var an = n * 0.5;
            d = x + an * d;
            d = Math.Abs(d) < tiny ? tiny : d;
            c = x + an / c;
            c = Math.Abs(c) < tiny ? tiny : c;
            d = 1 / d;
            var delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return Math.Exp(-x * x) / Math.Sqrt(Math.PI) / f;
    }
}
