namespace Backprop.Plugins.Core;

/// <summary>
/// Batch normalisation in training, an optional residual and a ReLU as one op: Z = max(γ[c]·(X − μ[c])·s[c] + β[c] + R, 0)
/// for X [N, C, …] and R of X's shape, with the batch mean μ and inverse standard deviation s as the second and third
/// outputs, as <see cref="BatchNormTraining"/>. The importer runs a network's Conv → BatchNormalization [→ Add] → Relu
/// through it while training, so the affine map, the add and the ReLU are one pass over the activations instead of three,
/// and neither the normalised nor the summed tensor is kept. Rules: the ReLU's mask G·[Z &gt; 0] (<see cref="PositiveMask"/>)
/// is the residual's gradient and, through <see cref="BatchNormTraining"/>'s own rules, gives those of X, γ and β; the
/// tangent is the mask applied to the normalisation's tangent plus the residual's.
/// </summary>
internal sealed class BatchNormAddRelu : IDifferentiableOp, IOpSamples
{
    public OpSchema Schema { get; } = new(Ops.BackpropDomain, "BatchNormAddRelu", 1, 3, 4, 3);

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> inputs)
    {
        var (x, gamma, beta) = (inputs[0], inputs[1], inputs[2]);
        var residual = inputs.Length > 3 ? inputs[3] : null;
        var dtype = Broadcast.FloatOperands("BatchNormAddRelu", x, gamma);
        Broadcast.FloatOperands("BatchNormAddRelu", x, beta);
        var c = ChannelAffine.Channels(x, "BatchNormAddRelu");
        if (gamma.Shape != new Shape(c) || beta.Shape != new Shape(c))
            throw new ShapeException($"BatchNormAddRelu: scale {gamma.Shape} and bias {beta.Shape} must be [{c}] for input {x.Shape}.");
        if (residual is not null && (residual.Shape != x.Shape || residual.DType != dtype))
            throw new ShapeException($"BatchNormAddRelu: residual {residual.DType} {residual.Shape} must match the input, {dtype} {x.Shape}.");
        var (mean, invStd) = (Tensor.Empty(new Shape(c), dtype), Tensor.Empty(new Shape(c), dtype));
        var z = Tensor.Empty(x.Shape, dtype);
        var eps = ctx.Attributes.GetDouble("epsilon", 1e-5);
        if (dtype == DType.Float32) BatchNormTraining.Run<float>(x, gamma, beta, eps, mean, invStd, z, residual, relu: true);
        else BatchNormTraining.Run<double>(x, gamma, beta, eps, mean, invStd, z, residual, relu: true);
        return [z, mean, invStd];
    }

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g)
    {
        var masked = g[0] is { } gz ? Ops.Call(PositiveMask.Instance, OpAttributes.Empty, gz, ctx.Output(0)) : null;
        var grads = BatchNormTraining.Gradients(ctx, masked, g[1], g[2]);
        return ctx.InputCount > 3 ? [grads[0], grads[1], grads[2], ctx.NeedsInputGrad[3] ? masked : null] : grads;
    }

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t)
    {
        var tangents = BatchNormTraining.Tangents(ctx, t[..3]);
        var pre = tangents[0];
        if (t.Length > 3 && t[3] is { } tr) pre = pre is null ? tr : pre + tr;
        return [pre is null ? null : Ops.Call(PositiveMask.Instance, OpAttributes.Empty, pre, ctx.Output(0)), tangents[1], tangents[2]];
    }

    public IEnumerable<OpSample> Samples(Random rng)
    {
        var attributes = OpAttributes.Of(("epsilon", 1e-3));
        yield return new OpSample("[N, C]", Operands(rng, [4, 2], residual: false), attributes);
        yield return new OpSample("[N, C, L] with residual", Operands(rng, [2, 3, 4], residual: true), attributes);
        yield return new OpSample("[N, C, H, W] with residual", Operands(rng, [2, 2, 3, 3], residual: true), attributes);
    }

    /// <summary>
    /// X, γ, β (and R) whose pre-activations all lie at least 0.05 from the ReLU's kink, so that finite differences do
    /// not cross it: drawn again until they do.
    /// </summary>
    private static Tensor[] Operands(Random rng, int[] shape, bool residual)
    {
        var (n, c) = (shape[0], shape[1]);
        var inner = shape.Skip(2).Aggregate(1, (a, b) => a * b);
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var x = BinarySamples.U(rng, shape, (-1, 1));
            var gamma = BinarySamples.U(rng, [c], (0.5, 1.5));
            var beta = BinarySamples.U(rng, [c], (-0.5, 0.5));
            var r = residual ? BinarySamples.U(rng, shape, (-0.5, 0.5)) : null;
            var (xs, rs) = (x.ToDoubleArray(), r?.ToDoubleArray());
            var clear = true;
            for (var ch = 0; ch < c && clear; ch++)
            {
                var values = Enumerable.Range(0, n * inner).Select(k => xs[(k / inner * c + ch) * inner + k % inner]).ToArray();
                var mean = values.Average();
                var s = 1 / Math.Sqrt(values.Select(v => (v - mean) * (v - mean)).Average() + 1e-3);
                for (var k = 0; k < values.Length && clear; k++)
                {
                    var at = (k / inner * c + ch) * inner + k % inner;
                    var pre = gamma.GetAsDouble(ch) * (values[k] - mean) * s + beta.GetAsDouble(ch) + (rs?[at] ?? 0);
                    clear = Math.Abs(pre) >= 0.05;
                }
            }
            if (clear) return residual ? [x, gamma, beta, r!] : [x, gamma, beta];
        }
        throw new InvalidOperationException($"BatchNormAddRelu samples: no draw of shape [{string.Join(", ", shape)}] kept clear of the kink.");
    }
}
