namespace Backprop.Plugins.Core;

/// <summary>
/// Y = act(X ⋆ W · a[c] + b[c] + R): a convolution with a per-channel affine map (inference batch normalisation, a folded
/// bias), an optional residual R of the output's shape and an optional ReLU (attribute relu = 1), computed in the
/// convolution's copy-out pass. Inputs X, W, a, b[, R]; convolution attributes as <see cref="ConvCore"/>.
/// Rules with U = X ⋆ W·a + b + R and G' = G masked where Y &gt; 0: dX = ConvGradInput(G'·a, W), dW = ConvGradWeight(X, G'·a),
/// da = Σ G'·(X ⋆ W), db = Σ G', dR = G'; the JVP pushes (dX ⋆ W + X ⋆ dW)·a + (X ⋆ W)·da + db + dR through the same mask.
/// </summary>
internal sealed class ConvAffine : IDifferentiableOp, IOpSamples
{
    public static readonly ConvAffine Instance = new();

    public OpSchema Schema { get; } = new(Ops.BackpropDomain, "ConvAffine", 1, 4, 5);

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var dtype = Broadcast.FloatOperands("ConvAffine", x[0], x[1]);
        for (var i = 2; i < x.Length; i++) Broadcast.FloatOperands("ConvAffine", x[0], x[i]);
        var g = ConvCore.Geometry(ctx.Attributes, x[0].Shape, x[1].Shape);
        if (x[2].Shape != new Shape(g.M) || x[3].Shape != new Shape(g.M))
            throw new ShapeException($"ConvAffine: scale {x[2].Shape} and shift {x[3].Shape} must be [{g.M}] for weight {x[1].Shape}.");
        var residual = x.Length == 5 ? x[4] : null;
        if (residual is not null && residual.Shape != g.OutputShape)
            throw new ShapeException($"ConvAffine: residual {residual.Shape} must have the output's shape {g.OutputShape}.");
        var y = Tensor.Empty(g.OutputShape, dtype);
        var epilogue = new ConvEpilogue(x[2], x[3], residual, Relu(ctx));
        var router = ctx.Kernels.Get<IGemmRouter>();
        if (dtype == DType.Float32) ConvKernels.Forward<float>(router, ctx.Kernels, g, x[0], x[1], y, epilogue);
        else ConvKernels.Forward<double>(router, ctx.Kernels, g, x[0], x[1], y, epilogue);
        return [y];
    }

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> gs)
    {
        var (x, w, a) = (ctx.Input(0), ctx.Input(1), ctx.Input(2));
        var gu = Relu(ctx) ? Ops.Call(PositiveMask.Instance, OpAttributes.Empty, gs[0]!, ctx.Output(0)) : gs[0]!;
        var axes = ChannelAffine.OtherAxes(x.Rank);
        var need = ctx.NeedsInputGrad;
        var gz = need[0] || need[1] ? Ops.ChannelAffine(gu, a, Ops.ScalarLike(a, 0) * a) : null;
        var conv = Attributes(ctx);
        return
        [
            need[0] ? Ops.Call(ConvGradInput.Instance, conv.With("input_shape", x.Shape.ToArray()), gz!, w) : null,
            need[1] ? Ops.Call(ConvGradWeight.Instance, conv.With("weight_shape", w.Shape.ToArray()), x, gz!) : null,
            need[2] ? Ops.ReduceSum(gu * Ops.Call(ConvCore.Instance, conv, x, w), axes) : null,
            need[3] ? Ops.ReduceSum(gu, axes) : null,
            .. ctx.InputCount == 5 ? [need[4] ? gu : null] : Array.Empty<Tensor?>(),
        ];
    }

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t)
    {
        var (x, w, a) = (ctx.Input(0), ctx.Input(1), ctx.Input(2));
        var y = ctx.Output(0);
        var conv = Attributes(ctx);
        var zero = Ops.ScalarLike(a, 0) * a;
        Tensor? du = null;
        void Add(Tensor? term) => du = term is null ? du : du is null ? term : du + term;
        Tensor? dz = null;
        if (t[0] is { } dx) dz = Ops.Call(ConvCore.Instance, conv, dx, w);
        if (t[1] is { } dw) dz = dz is null ? Ops.Call(ConvCore.Instance, conv, x, dw) : dz + Ops.Call(ConvCore.Instance, conv, x, dw);
        if (dz is not null) Add(Ops.ChannelAffine(dz, a, zero));
        if (t[2] is { } da) Add(Ops.ChannelAffine(Ops.Call(ConvCore.Instance, conv, x, w), da, zero));
        if (t[3] is { } db) Add(Ops.ChannelAffine(Ops.ScalarLike(y, 0) * y, zero, db));
        if (t.Length == 5 && t[4] is { } dr) Add(dr);
        if (du is null) return [null];
        return [Relu(ctx) ? Ops.Call(PositiveMask.Instance, OpAttributes.Empty, du, y) : du];
    }

    private static bool Relu(OpContext ctx) => ctx.Attributes.GetLong("relu", 0) != 0;

    /// <summary>The convolution's own attributes (relu removed), for the ConvCore family the rules call.</summary>
    private static OpAttributes Attributes(OpContext ctx) => ctx.Attributes.Without("relu");

    public IEnumerable<OpSample> Samples(Random rng)
    {
        Tensor U(double lo, double hi, params int[] s) => BinarySamples.U(rng, s, (lo, hi));
        // With |X|, |W|, |R| ≤ 0.3 and four-term windows, |X ⋆ W · a + R| < 0.7; shifts of ±2 keep every pre-activation at
        // least 1.3 away from ReLU's kink, so finite differences never straddle it.
        Tensor Shift(int m) => Tensor.FromArray(Enumerable.Range(0, m).Select(i => i % 2 == 0 ? 2.0 : -2.0).ToArray(), m);
        var pads = OpAttributes.Of(("pads", new[] { 1, 0, 0, 1 }));
        yield return new OpSample("affine only", [U(-1, 1, 2, 3, 4, 5), U(-1, 1, 4, 3, 2, 2), U(-1, 1, 4), U(-1, 1, 4)], pads);
        yield return new OpSample("affine, residual, ReLU", [U(-0.3, 0.3, 2, 1, 4, 5), U(-0.3, 0.3, 4, 1, 2, 2), U(0.5, 1, 4), Shift(4), U(-0.3, 0.3, 2, 4, 4, 5)],
            pads.With("relu", 1L));
        yield return new OpSample("stride 2, ReLU, no residual", [U(-0.3, 0.3, 1, 2, 5, 5), U(-0.3, 0.3, 2, 2, 1, 2), U(0.5, 1, 2), Shift(2)],
            OpAttributes.Of(("strides", new[] { 2, 2 }), ("relu", 1L)));
    }
}
