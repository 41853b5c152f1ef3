using System.Numerics;

namespace Backprop.Plugins.Core;

/// <summary>
/// Batch statistics per channel of X [N, C, …]: mean μ[c] and inverse standard deviation s[c] = (σ²[c] + ε)^−½ with the
/// population variance, both over every axis but 1 (attribute epsilon). Two passes per channel (the mean, then the centred
/// squares, accumulated in float64 on vectors) for accuracy. VJP (n values per channel): dX = gμ/n + gs·(−s³/n)·(X − μ), applied as one ChannelAffine;
/// JVP: dμ = mean(dX), ds = −s³·mean((X − μ)·dX).
/// </summary>
internal sealed class ChannelMoments : IDifferentiableOp, IOpSamples
{
    public OpSchema Schema { get; } = new(Ops.BackpropDomain, "ChannelMoments", 1, 1, 1, 2);

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var input = x[0];
        if (!input.DType.IsFloatingPoint()) throw new DTypeException($"ChannelMoments takes float32 or float64, got {input.DType}.");
        var c = ChannelAffine.Channels(input, "ChannelMoments");
        var eps = ctx.Attributes.GetDouble("epsilon", 1e-5);
        var mean = Tensor.Empty(new Shape(c), input.DType);
        var invStd = Tensor.Empty(new Shape(c), input.DType);
        if (input.DType == DType.Float32) Run<float>(input, eps, mean, invStd);
        else Run<double>(input, eps, mean, invStd);
        return [mean, invStd];
    }

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g)
    {
        var x = ctx.Input(0);
        var (mean, s) = (ctx.Output(0), ctx.Output(1));
        var n = x.Size / Math.Max(1, x.Shape[1]);
        var zero = Ops.ScalarLike(mean, 0) * mean;
        var gm = g[0] ?? zero;
        var k1 = g[1] is { } gs ? -gs * s * s * s / Ops.ScalarLike(s, n) : zero;
        var k0 = gm / Ops.ScalarLike(mean, n) - k1 * mean;
        return [Ops.ChannelAffine(x, k1, k0)];
    }

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t)
    {
        var x = ctx.Input(0);
        var (mean, s) = (ctx.Output(0), ctx.Output(1));
        var dx = t[0]!;
        var axes = ChannelAffine.OtherAxes(x.Rank);
        var dMean = Ops.ReduceMean(dx, axes);
        var centered = Ops.ChannelAffine(x, Ops.ScalarLike(mean, 1) + Ops.ScalarLike(mean, 0) * mean, -mean);
        var dS = -(s * s * s) * Ops.ReduceMean(centered * dx, axes);
        return [dMean, dS];
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static void Run<T>(Tensor x, double eps, Tensor mean, Tensor invStd) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, c) = (x.Shape[0], x.Shape[1]);
        var plane = n * c == 0 ? 0 : x.Size / (n * c);
        var count = (double)n * plane;
        KernelThreads.ForEachInRanges(c, ChannelAffine.Threads(x), ch =>
        {
            var span = x.Span<T>();
            double sum = 0;
            for (var i = 0; i < n; i++) sum += double.CreateTruncating(System.Numerics.Tensors.TensorPrimitives.Sum<T>(span.Slice((i * c + ch) * plane, plane)));
            var mu = count == 0 ? 0 : sum / count;
            double squares = 0;
            for (var i = 0; i < n; i++) squares += CenteredSquares(span.Slice((i * c + ch) * plane, plane), mu);
            mean.Span<T>()[ch] = T.CreateTruncating(mu);
            invStd.Span<T>()[ch] = T.CreateTruncating(1 / Math.Sqrt((count == 0 ? 0 : squares / count) + eps));
        });
    }

    /// <summary>Σ (v − μ)² accumulated in float64, on SIMD vectors (float32 lanes widened to float64).</summary>
    private static double CenteredSquares<T>(ReadOnlySpan<T> values, double mu) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var i = 0;
        var (a, b) = (Vector<double>.Zero, Vector<double>.Zero);
        var m = new Vector<double>(mu);
        if (typeof(T) == typeof(float))
        {
            var f = System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(values);
            for (; i <= f.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector.Widen(new Vector<float>(f.Slice(i)), out var lo, out var hi);
                (lo, hi) = (lo - m, hi - m);
                (a, b) = (a + lo * lo, b + hi * hi);
            }
        }
        else if (typeof(T) == typeof(double))
        {
            var d = System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(values);
            for (; i <= d.Length - 2 * Vector<double>.Count; i += 2 * Vector<double>.Count)
            {
                var (lo, hi) = (new Vector<double>(d.Slice(i)) - m, new Vector<double>(d.Slice(i + Vector<double>.Count)) - m);
                (a, b) = (a + lo * lo, b + hi * hi);
            }
        }
        var sum = Vector.Sum(a + b);
        for (; i < values.Length; i++)
        {
            var e = double.CreateTruncating(values[i]) - mu;
            sum += e * e;
        }
        return sum;
    }

    public IEnumerable<OpSample> Samples(Random rng)
    {
        Tensor U(params int[] s) => BinarySamples.U(rng, s, (-1, 1));
        yield return new OpSample("[N, C]", [U(4, 2)], OpAttributes.Of(("epsilon", 1e-3)));
        yield return new OpSample("[N, C, L]", [U(2, 3, 4)], OpAttributes.Of(("epsilon", 1e-5)));
        yield return new OpSample("[N, C, H, W]", [U(2, 2, 3, 3)], OpAttributes.Of(("epsilon", 0.1)));
    }
}
