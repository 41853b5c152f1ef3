using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Plugins.Core;

/// <summary>y = erf x; f′ = 2/√π · e^(−x²).</summary>
internal sealed class Erf : ElementwiseUnaryOp
{
    public Erf() : base("Erf") { }

    protected override (double Low, double High) SampleRange => (-3, 3);

    protected override void Compute<T>(ReadOnlySpan<T> x, Span<T> y, OpAttributes attributes)
    {
        if (typeof(T) == typeof(float))
        {
            // split across cores: the GELU layers of transformers call it on millions of elements
            SpanParallel.Map(System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(x), System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(y),
                static (a, b) => SpecialFunctions.ErfSingle(a, b));
            return;
        }
        for (var i = 0; i < x.Length; i++) y[i] = T.CreateTruncating(SpecialFunctions.Erf(double.CreateTruncating(x[i])));
    }

    protected override Tensor Derivative(OpContext ctx, Tensor x, Tensor y) => Ops.Mul(Grad.C(x, 2 / Math.Sqrt(Math.PI)), Ops.Exp(Ops.Neg(Ops.Mul(x, x))));
}
