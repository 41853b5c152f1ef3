namespace Backprop.Plugins.Core;

/// <summary>
/// Batch normalisation with batch statistics: Y = γ[c]·(X − μ[c])·s[c] + β[c] for X [N, C, …], with the batch mean μ and
/// inverse standard deviation s = (σ² + ε)^−½ (population variance, attribute epsilon) as second and third outputs.
/// One op rather than <see cref="ChannelMoments"/> and <see cref="ChannelAffine"/> so that the input gradient, which
/// flows both straight through the affine map and through the statistics, is formed in one pass:
/// VJP, with n values per channel, u = Σ G·X, v = Σ G (<see cref="ChannelGradSums"/>), dγ = s·(u − μ·v), dβ = v:
/// dX = G·γs + X·B + (−γs·v/n − B·μ + gμ/n) with B = −γs²·dγ/n − gs·s³/n (<see cref="ChannelMix"/>).
/// JVP: μ̇ = mean(Ẋ), ṡ = −s³·mean((X − μ)·Ẋ), Ẏ = Ẋ·γs + (X − μ)·(γṡ + γ̇s) − γs·μ̇ + β̇.
/// </summary>
internal sealed class BatchNormTraining : IDifferentiableOp, IOpSamples
{
    public OpSchema Schema { get; } = new(Ops.BackpropDomain, "BatchNormTraining", 1, 3, 3, 3);

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> inputs)
    {
        var (x, gamma, beta) = (inputs[0], inputs[1], inputs[2]);
        var dtype = Broadcast.FloatOperands("BatchNormTraining", x, gamma);
        Broadcast.FloatOperands("BatchNormTraining", x, beta);
        var c = ChannelAffine.Channels(x, "BatchNormTraining");
        if (gamma.Shape != new Shape(c) || beta.Shape != new Shape(c))
            throw new ShapeException($"BatchNormTraining: scale {gamma.Shape} and bias {beta.Shape} must be [{c}] for input {x.Shape}.");
        var (mean, invStd) = (Tensor.Empty(new Shape(c), dtype), Tensor.Empty(new Shape(c), dtype));
        var y = Tensor.Empty(x.Shape, dtype);
        var eps = ctx.Attributes.GetDouble("epsilon", 1e-5);
        if (dtype == DType.Float32) Run<float>(x, gamma, beta, eps, mean, invStd, y);
        else Run<double>(x, gamma, beta, eps, mean, invStd, y);
        return [y, mean, invStd];
    }

    /// <summary>
    /// The statistics (<see cref="ChannelMoments"/>), then Y = X·a + b with a = γs, b = β − μa (<see cref="ChannelAffine"/>),
    /// or, with a residual or a ReLU after it (<see cref="BatchNormAddRelu"/>), max(X·a + b + R, 0) in that same pass.
    /// </summary>
    internal static void Run<T>(Tensor x, Tensor gamma, Tensor beta, double eps, Tensor mean, Tensor invStd, Tensor y, Tensor? residual = null, bool relu = false)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        ChannelMoments.Run<T>(x, eps, mean, invStd);
        var (a, b) = (Tensor.Empty(mean.Shape, mean.DType), Tensor.Empty(mean.Shape, mean.DType));
        for (var i = 0; i < mean.Size; i++)
        {
            var scale = gamma.Span<T>()[i] * invStd.Span<T>()[i];
            (a.Span<T>()[i], b.Span<T>()[i]) = (scale, beta.Span<T>()[i] - mean.Span<T>()[i] * scale);
        }
        if (residual is null && !relu)
        {
            ChannelAffine.Run<T>(x, a, b, y);
            return;
        }
        var epilogue = new ConvEpilogue(a, b, residual, relu);
        var (n, c) = (x.Shape[0], x.Shape[1]);
        var plane = n * c == 0 ? 0 : x.Size / (n * c);
        KernelThreads.ForRanges(n * c, ChannelAffine.Threads(x), (first, last) =>
        {
            for (var nc = first; nc < last; nc++)
                epilogue.Apply<T>(x.Span<T>().Slice(nc * plane, plane), y.Span<T>().Slice(nc * plane, plane), nc % c, nc * plane);
        });
    }

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) => Gradients(ctx, g[0], g[1], g[2]);

    /// <summary>
    /// The VJP for the gradient <paramref name="gy"/> of the normalised output (after any ReLU mask) and those of the two
    /// statistics; inputs 0–2 of <paramref name="ctx"/> are X, γ, β and outputs 1–2 the mean and inverse deviation.
    /// </summary>
    internal static Tensor?[] Gradients(OpContext ctx, Tensor? gy, Tensor? gMean, Tensor? gS)
    {
        var (x, gamma) = (ctx.Input(0), ctx.Input(1));
        var (mean, s) = (ctx.Output(1), ctx.Output(2));
        var n = Ops.ScalarLike(s, x.Size / Math.Max(1, x.Shape[1]));
        var zero = Ops.ScalarLike(s, 0) * s;
        Tensor? dGamma = null, dBeta = null;
        var (scale, slope, offset) = (gamma * s, zero, zero);
        if (gy is not null)
        {
            var (u, v) = ChannelGradSums.Of(gy, x);
            (dGamma, dBeta) = (s * (u - mean * v), v);
            slope = -(scale * s) * dGamma / n;
            offset = -(scale * v) / n;
        }
        if (gMean is not null) offset += gMean / n;
        if (gS is not null) slope -= gS * s * s * s / n;
        offset -= slope * mean;
        Tensor? dx = null;
        if (ctx.NeedsInputGrad[0])
            dx = gy is not null ? ChannelMix.Of(gy, x, scale, slope, offset) : Ops.ChannelAffine(x, slope, offset);
        return [dx, ctx.NeedsInputGrad[1] ? dGamma : null, ctx.NeedsInputGrad[2] ? dBeta : null];
    }

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t) => Tangents(ctx, t);

    /// <summary>Tangents of the normalised output (before any ReLU) and of the two statistics, from those of X, γ and β (t[0–2]).</summary>
    internal static Tensor?[] Tangents(OpContext ctx, ReadOnlySpan<Tensor?> t)
    {
        var (x, gamma) = (ctx.Input(0), ctx.Input(1));
        var (mean, s) = (ctx.Output(1), ctx.Output(2));
        var zero = Ops.ScalarLike(s, 0) * s;
        var scale = gamma * s;
        Tensor? dMean = null, dS = null;
        var slope = t[1] is { } tGamma ? tGamma * s : zero;
        var offset = t[2] ?? zero;
        if (t[0] is { } tx)
        {
            var n = Ops.ScalarLike(s, x.Size / Math.Max(1, x.Shape[1]));
            var (u, v) = ChannelGradSums.Of(tx, x);
            dMean = v / n;
            dS = -(s * s * s) * (u - mean * v) / n;
            slope += gamma * dS;
            offset -= scale * dMean;
        }
        offset -= slope * mean;
        Tensor? dy = null;
        if (t[0] is { } dx) dy = ChannelMix.Of(dx, x, scale, slope, offset);
        else if (t[1] is not null || t[2] is not null) dy = Ops.ChannelAffine(x, slope, offset);
        return [dy, dMean, dS];
    }

    public IEnumerable<OpSample> Samples(Random rng)
    {
        Tensor U(params int[] s) => BinarySamples.U(rng, s, (-1, 1));
        yield return new OpSample("[N, C]", [U(4, 2), U(2), U(2)], OpAttributes.Of(("epsilon", 1e-3)));
        yield return new OpSample("[N, C, L]", [U(2, 3, 4), U(3), U(3)], OpAttributes.Of(("epsilon", 1e-5)));
        yield return new OpSample("[N, C, H, W]", [U(2, 2, 3, 3), U(2), U(2)], OpAttributes.Of(("epsilon", 0.1)));
    }
}
