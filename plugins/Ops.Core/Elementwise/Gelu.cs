namespace Backprop.Plugins.Core;

/// <summary>
/// GELU. approximate="none": y = x·Φ(x) with Φ(x) = ½(1 + erf(x/√2)), f′ = Φ(x) + x·φ(x).
/// approximate="tanh": y = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³), f′ = ½(1 + t) + ½x(1 − t²)·u′.
/// First-order backward of float32 erf GELU (transformer training) runs as one vector kernel instead of the ten ops of f′.
/// </summary>
internal sealed class Gelu : ElementwiseUnaryOp, IFastVjp
{
    private const double C = 0.044715;
    private static readonly double K = Math.Sqrt(2 / Math.PI);

    public Gelu() : base("Gelu") { }

    protected override (double Low, double High) SampleRange => (-3, 3);

    private static bool Tanh(OpAttributes a) => a.GetString("approximate", "none") switch
    {
        "none" => false,
        "tanh" => true,
        var other => throw new AttributeException($"Gelu: approximate must be \"none\" or \"tanh\", got \"{other}\"."),
    };

    protected override void Compute<T>(ReadOnlySpan<T> x, Span<T> y, OpAttributes attributes)
    {
        var tanh = Tanh(attributes);
        if (typeof(T) == typeof(float) && !tanh)
        {
            // transformers apply it to millions of elements: vector erf, split across cores
            SpanParallel.Map(System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(x), System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(y),
                static (a, b) => SpecialFunctions.GeluSingle(a, b));
            return;
        }
        for (var i = 0; i < x.Length; i++)
        {
            var v = double.CreateTruncating(x[i]);
            var r = tanh ? 0.5 * v * (1 + Math.Tanh(K * (v + C * v * v * v))) : 0.5 * v * (1 + SpecialFunctions.Erf(v / Math.Sqrt(2)));
            y[i] = T.CreateTruncating(r);
        }
    }

    public Tensor?[]? FastVjp(OpContext ctx, ReadOnlySpan<Tensor?> gradOutputs)
    {
        var (x, g) = (ctx.Input(0), gradOutputs[0]);
        if (g is null || x.DType != DType.Float32 || g.DType != DType.Float32 || g.Shape != x.Shape || Tanh(ctx.Attributes)) return null;
        var dx = Tensor.Empty(x.Shape, DType.Float32);
        SpanParallel.Map2(x.Span<float>(), g.Span<float>(), dx.Span<float>(), static (a, b, c) => SpecialFunctions.GeluGradSingle(a, b, c));
        return [dx];
    }

    protected override Tensor Derivative(OpContext ctx, Tensor x, Tensor y)
    {
        if (!Tanh(ctx.Attributes))
        {
            var cdf = Ops.Mul(Grad.C(x, 0.5), Ops.Add(Grad.C(x, 1), Ops.Erf(Ops.Mul(x, Grad.C(x, 1 / Math.Sqrt(2))))));
            var pdf = Ops.Mul(Grad.C(x, 1 / Math.Sqrt(2 * Math.PI)), Ops.Exp(Ops.Mul(Ops.Mul(x, x), Grad.C(x, -0.5))));
            return Ops.Add(cdf, Ops.Mul(x, pdf));
        }
        var x2 = Ops.Mul(x, x);
        var t = Ops.Tanh(Ops.Mul(Grad.C(x, K), Ops.Add(x, Ops.Mul(Grad.C(x, C), Ops.Mul(x2, x)))));
        var du = Ops.Mul(Grad.C(x, K), Ops.Add(Grad.C(x, 1), Ops.Mul(Grad.C(x, 3 * C), x2)));
        var half = Grad.C(x, 0.5);
        var first = Ops.Mul(half, Ops.Add(Grad.C(x, 1), t));
        var second = Ops.Mul(Ops.Mul(half, x), Ops.Mul(Ops.Sub(Grad.C(x, 1), Ops.Mul(t, t)), du));
        return Ops.Add(first, second);
    }

    public override IEnumerable<OpSample> Samples(Random rng)
    {
        foreach (var s in base.Samples(rng)) yield return s;
        foreach (var s in base.Samples(rng).Take(20))
            yield return s with { Description = s.Description + " tanh", Attributes = OpAttributes.Of(("approximate", "tanh")) };
    }
}
