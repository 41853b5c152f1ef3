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
