using System.Numerics;
using System.Runtime.CompilerServices;

namespace Backprop.Plugins.Core;

/// <summary>
/// erf and a bounded exp on float32 SIMD vectors, built for GELU's millions of elements: fused multiply-adds only, no
/// division, no branches. erf(x) = x·A(x²) for |x| &lt; 1 and ±(1 − exp(B(|x|))) for |x| ≥ 1, |x| clamped to 3.92 (where
/// erf already rounds to 1 in float32), with A of degree 5 and B ≈ ln erfc of degree 8 fitted near-minimax in float64
/// (Lawson's reweighted least squares against mpmath, tools/fits/vector_erf_fit.py; absolute error of the fits 3.9e-8 and
/// 1.3e-9). Evaluated in float32 the result stays within a few 1e-8 of erf (tests compare with the float64 op).
/// </summary>
internal static class VectorErf
{
    private const float Cut = 1f;
    private const float One = 3.92f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> C(float c) => new(c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Fma(Vector<float> a, Vector<float> b, Vector<float> c) => Vector.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Erf(Vector<float> x)
    {
        var a = Vector.Abs(x);
        var z = x * x;
        var near = Fma(z, C(-0.000566026859348534f), C(0.004924821771519344f));
        near = Fma(z, near, C(-0.02671774068454183f));
        near = Fma(z, near, C(0.11280413102982836f));
        near = Fma(z, near, C(-0.3761235595274173f));
        near = Fma(z, near, C(1.1283791287083769f)) * x;
        // ln erfc on [1, 3.92], |x| clamped into it: at 3.92, 1 − e^q already rounds to 1.
        var b = Vector.MinNative(Vector.MaxNative(a, C(Cut)), C(One));
        var q = Fma(b, C(1.631963040704676e-06f), C(-4.5917569540865344e-05f));
        q = Fma(b, q, C(0.0005952964982890996f));
        q = Fma(b, q, C(-0.004750980900647836f));
        q = Fma(b, q, C(0.026392211280685002f));
        q = Fma(b, q, C(-0.11002125627794064f));
        q = Fma(b, q, C(-0.6318970447281248f));
        q = Fma(b, q, C(-1.1301868734553286f));
        q = Fma(b, q, C(0.0003074150657616977f));
        var far = Vector<float>.One - Scale(q);
        far = Vector.AsVectorSingle(Vector.AsVectorUInt32(far) | (Vector.AsVectorUInt32(x) & new Vector<uint>(0x8000_0000u)));
        // NaN lanes fail the comparison and keep the polynomial form, which is NaN.
        return Vector.ConditionalSelect(Vector.GreaterThanOrEqual(a, C(Cut)), far, near);
    }

    /// <summary>
    /// e^q for q ≤ 0 (0 below −87, where e^q is no longer a normal float32), by <see cref="Scale"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Exp(Vector<float> q)
    {
        var underflow = Vector.LessThan(q, C(-87f));
        return Vector.ConditionalSelect(underflow, Vector<float>.Zero, Scale(Vector.MaxNative(q, C(-87f))));
    }

    /// <summary>
    /// e^q for q in [−87, 88]: q = k·ln 2 + r with |r| ≤ ln 2 / 2, e^r by its Taylor polynomial of degree 7 (relative
    /// error 5e-9), 2^k put into the exponent bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Scale(Vector<float> q)
    {
        var k = Vector.Floor(Fma(q, C(1.44269504f), C(0.5f)));
        var r = Fma(k, C(-0.693145752f), q);
        r = Fma(k, C(-1.42860677e-06f), r);
        var p = Fma(r, C(1f / 5040), C(1f / 720));
        p = Fma(r, p, C(1f / 120));
        p = Fma(r, p, C(1f / 24));
        p = Fma(r, p, C(1f / 6));
        p = Fma(r, p, C(0.5f));
        p = Fma(r, p, Vector<float>.One);
        p = Fma(r, p, Vector<float>.One);
        return p * Vector.AsVectorSingle(Vector.ShiftLeft(Vector.ConvertToInt32(k) + new Vector<int>(127), 23));
    }
}
