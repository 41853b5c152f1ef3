namespace Backprop.Plugins.Core;

/// <summary>
/// Convolution without bias, Y = X ⋆ W (attributes strides, pads, dilations, group). Bilinear: the input gradient
/// is <see cref="ConvGradInput"/>(G, W) and the weight gradient <see cref="ConvGradWeight"/>(X, G); those two are
/// bilinear ops whose rules use this op again, so convolution differentiates to any order.
/// </summary>
internal sealed class ConvCore : BilinearOp
{
    public static readonly ConvCore Instance = new();

    public override OpSchema Schema { get; } = new(Ops.BackpropDomain, "ConvCore", 1, 2, 2);

    public static ConvGeometry Geometry(OpAttributes a, Shape x, Shape w)
    {
        if (w.Rank != x.Rank) throw new ShapeException($"Conv: weight {w} and input {x} have different ranks.");
        var group = a.GetInt("group", 1);
        var g = ConvGeometry.Of("Conv", x, w.Dims[0], w.Dims[2..].ToArray(), a, group);
        if (w.Dims[1] != g.Cg) throw new ShapeException($"Conv: weight {w} expects {w.Dims[1]} channels per group but input {x} has {g.Cg} (group {group}).");
        return g;
    }

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var dtype = Broadcast.FloatOperands("Conv", x[0], x[1]);
        var g = Geometry(ctx.Attributes, x[0].Shape, x[1].Shape);
        var y = Tensor.Empty(g.OutputShape, dtype);
        var router = ctx.Kernels.Get<IGemmRouter>();
        if (dtype == DType.Float32) ConvKernels.Forward<float>(router, ctx.Kernels, g, x[0], x[1], y);
        else ConvKernels.Forward<double>(router, ctx.Kernels, g, x[0], x[1], y);
        return [y];
    }

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> gs)
    {
        var (x, w, g) = (ctx.Input(0), ctx.Input(1), gs[0]!);
        return
        [
            ctx.NeedsInputGrad[0] ? Ops.Call(ConvGradInput.Instance, ctx.Attributes.With("input_shape", x.Shape.ToArray()), g, w) : null,
            ctx.NeedsInputGrad[1] ? Ops.Call(ConvGradWeight.Instance, ctx.Attributes.With("weight_shape", w.Shape.ToArray()), x, g) : null,
        ];
    }
}

/// <summary>∂⟨D, X ⋆ W⟩/∂X for an input of attribute input_shape: col2im(D·W). Bilinear in (D, W).</summary>
internal sealed class ConvGradInput : BilinearOp
{
    public static readonly ConvGradInput Instance = new();

    public override OpSchema Schema { get; } = new(Ops.BackpropDomain, "ConvGradInput", 1, 2, 2);

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var (d, w) = (x[0], x[1]);
        var dtype = Broadcast.FloatOperands("ConvGradInput", d, w);
        var g = ConvCore.Geometry(ctx.Attributes, new Shape(ctx.Attributes.GetInts("input_shape")), w.Shape);
        if (d.Shape != g.OutputShape) throw new ShapeException($"ConvGradInput: gradient {d.Shape} does not match the convolution output {g.OutputShape}.");
        var dx = Tensor.Empty(g.InputShape, dtype);
        var router = ctx.Kernels.Get<IGemmRouter>();
        if (dtype == DType.Float32) ConvKernels.GradInput<float>(router, ctx.Kernels, g, d, w, dx);
        else ConvKernels.GradInput<double>(router, ctx.Kernels, g, d, w, dx);
        return [dx];
    }

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> gs)
    {
        var (d, w, h) = (ctx.Input(0), ctx.Input(1), gs[0]!);
        return
        [
            ctx.NeedsInputGrad[0] ? Ops.Call(ConvCore.Instance, ctx.Attributes, h, w) : null,
            ctx.NeedsInputGrad[1] ? Ops.Call(ConvGradWeight.Instance, ctx.Attributes.With("weight_shape", w.Shape.ToArray()), h, d) : null,
        ];
    }
}

/// <summary>∂⟨D, X ⋆ W⟩/∂W for a weight of attribute weight_shape: Dᵀ·im2col(X). Bilinear in (X, D).</summary>
internal sealed class ConvGradWeight : BilinearOp
{
    public static readonly ConvGradWeight Instance = new();

    public override OpSchema Schema { get; } = new(Ops.BackpropDomain, "ConvGradWeight", 1, 2, 2);

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var (input, d) = (x[0], x[1]);
        var dtype = Broadcast.FloatOperands("ConvGradWeight", input, d);
        var g = ConvCore.Geometry(ctx.Attributes, input.Shape, new Shape(ctx.Attributes.GetInts("weight_shape")));
        if (d.Shape != g.OutputShape) throw new ShapeException($"ConvGradWeight: gradient {d.Shape} does not match the convolution output {g.OutputShape}.");
        var dw = Tensor.Empty(g.WeightShape, dtype);
        var router = ctx.Kernels.Get<IGemmRouter>();
        if (dtype == DType.Float32) ConvKernels.GradWeight<float>(router, ctx.Kernels, g, input, d, dw);
        else ConvKernels.GradWeight<double>(router, ctx.Kernels, g, input, d, dw);
        return [dw];
    }

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> gs)
    {
        var (input, d, h) = (ctx.Input(0), ctx.Input(1), gs[0]!);
        return
        [
            ctx.NeedsInputGrad[0] ? Ops.Call(ConvGradInput.Instance, ctx.Attributes.With("input_shape", input.Shape.ToArray()), d, h) : null,
            ctx.NeedsInputGrad[1] ? Ops.Call(ConvCore.Instance, ctx.Attributes, input, h) : null,
        ];
    }
}
