using Backprop;

namespace BackpropOpPlugin;

/// <summary>
/// y = c·tanh(x / c) (attribute c, default 1): a smooth clip. Forward is a raw kernel; the rules are written in
/// differentiable ops (dy/dx = 1 − tanh²(x/c)), so second derivatives work too. Replace it with your op.
/// </summary>
public sealed class SoftClip : IDifferentiableOp, IOpSamples
{
    public OpSchema Schema { get; } = new(PluginModule.Domain, "SoftClip", 1, 1, 1);

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> inputs)
    {
        var x = inputs[0];
        var c = ctx.Attributes.GetDouble("c", 1.0);
        if (!(c > 0)) throw new AttributeException($"SoftClip: c must be positive, got {c}.");
        var y = Tensor.Empty(x.Shape, x.DType);
        if (x.DType == DType.Float32)
        {
            var src = x.Span<float>();
            var dst = y.Span<float>();
            for (var i = 0; i < src.Length; i++) dst[i] = (float)(c * Math.Tanh(src[i] / c));
        }
        else if (x.DType == DType.Float64)
        {
            var src = x.Span<double>();
            var dst = y.Span<double>();
            for (var i = 0; i < src.Length; i++) dst[i] = c * Math.Tanh(src[i] / c);
        }
        else throw new DTypeException($"SoftClip takes float32 or float64, got {x.DType}.");
        return [y];
    }

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> gradOutputs) => [Ops.Mul(gradOutputs[0]!, Slope(ctx))];

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> inputTangents) => [Ops.Mul(inputTangents[0]!, Slope(ctx))];

    private static Tensor Slope(OpContext ctx)
    {
        var x = ctx.Input(0);
        var t = Ops.Tanh(Ops.Div(x, Ops.ScalarLike(x, ctx.Attributes.GetDouble("c", 1.0))));
        return Ops.Sub(Ops.ScalarLike(x, 1), Ops.Mul(t, t));
    }

    /// <summary>Inputs the conformance kit differentiates (float64; cover the shapes and attributes your op accepts).</summary>
    public IEnumerable<OpSample> Samples(Random rng)
    {
        yield return new OpSample("c 1, length 6", [Tensor.Uniform(new Shape(6), rng, -3, 3, DType.Float64)], OpAttributes.Empty);
        yield return new OpSample("c 2.5, [2, 3]", [Tensor.Uniform(new Shape(2, 3), rng, -5, 5, DType.Float64)], OpAttributes.Of(("c", 2.5)));
    }
}
