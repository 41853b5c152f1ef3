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
            ErfSingle(System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(x), System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(y));
            return;
        }
        for (var i = 0; i < x.Length; i++) y[i] = T.CreateTruncating(SpecialFunctions.Erf(double.CreateTruncating(x[i])));
    }

    /// <summary>The float32 kernel, split across cores for large tensors (GELU layers of transformers call it on millions).</summary>
    private static unsafe void ErfSingle(ReadOnlySpan<float> x, Span<float> y)
    {
        const int chunk = 1 << 16;
        if (x.Length < 2 * chunk)
        {
            SpecialFunctions.ErfSingle(x, y);
            return;
        }
        fixed (float* px = x, py = y)
        {
            var (ax, ay, n) = ((IntPtr)px, (IntPtr)py, x.Length);
            KernelThreads.For((n + chunk - 1) / chunk, Environment.ProcessorCount, c =>
            {
                var start = c * chunk;
                var length = Math.Min(chunk, n - start);
                SpecialFunctions.ErfSingle(new ReadOnlySpan<float>((float*)ax + start, length), new Span<float>((float*)ay + start, length));
            });
        }
    }

    protected override Tensor Derivative(OpContext ctx, Tensor x, Tensor y) => Ops.Mul(Grad.C(x, 2 / Math.Sqrt(Math.PI)), Ops.Exp(Ops.Neg(Ops.Mul(x, x))));
}
