using Backprop.Onnx.Proto;

namespace Backprop.Onnx.Importers;

/// <summary>Pieces shared by several importers.</summary>
internal static class Helpers
{
    /// <summary>Backprop dtype for an ONNX element type (integers widen to int64, float16 to float32).</summary>
    public static DType ToDType(long onnxType, NodeContext ctx) => (TensorProto.Types.DataType)onnxType switch
    {
        TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Float16 or TensorProto.Types.DataType.Bfloat16 => DType.Float32,
        TensorProto.Types.DataType.Double => DType.Float64,
        TensorProto.Types.DataType.Bool => DType.Bool,
        TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Int32 or TensorProto.Types.DataType.Int16 or TensorProto.Types.DataType.Int8
            or TensorProto.Types.DataType.Uint8 or TensorProto.Types.DataType.Uint16 or TensorProto.Types.DataType.Uint32 or TensorProto.Types.DataType.Uint64 => DType.Int64,
        var other => throw ctx.Error($"element type {other} is not supported."),
    };

    /// <summary>Elementwise arithmetic: float through differentiable ops, int64 (shape arithmetic) computed directly.</summary>
    public static Tensor Arith(Tensor a, Tensor b, Func<Tensor, Tensor, Tensor> floatOp, Func<long, long, long> intOp, NodeContext ctx)
    {
        if (a.DType.IsFloatingPoint() || b.DType.IsFloatingPoint())
        {
            if (a.DType != b.DType) throw ctx.Error($"operands have different types {a.DType} and {b.DType}.");
            return floatOp(a, b);
        }
        if (a.DType != DType.Int64 || b.DType != DType.Int64) throw ctx.Error($"arithmetic on {a.DType} and {b.DType} is not supported.");
        var shape = Shape.Broadcast(a.Shape, b.Shape);
        var av = Ops.Expand(a, shape).ToInt64Array();
        var bv = Ops.Expand(b, shape).ToInt64Array();
        var r = new long[av.Length];
        for (var i = 0; i < r.Length; i++) r[i] = intOp(av[i], bv[i]);
        return new Tensor(r, shape);
    }

    /// <summary>Normalises ONNX axes against a rank.</summary>
    public static int[] Axes(IEnumerable<long> axes, int rank) =>
        axes.Select(a => a is >= int.MinValue and <= int.MaxValue ? Shape.NormalizeAxis((int)a, rank) : throw new ShapeException($"axis {a} is outside the tensor's rank {rank}.")).ToArray();

    /// <summary>Convolution/pooling attributes with auto_pad resolved to explicit pads.</summary>
    public static OpAttributes Window(NodeContext ctx, Shape input, int[] kernel, bool conv)
    {
        var rank = input.Rank - 2;
        if (rank < 1) throw ctx.Error($"input {input} needs a batch, a channel and at least one spatial axis.");
        var strides = ctx.Ints("strides")?.Select(v => (int)v).ToArray() ?? Enumerable.Repeat(1, rank).ToArray();
        var dilations = ctx.Ints("dilations")?.Select(v => (int)v).ToArray() ?? Enumerable.Repeat(1, rank).ToArray();
        var pads = ctx.Ints("pads")?.Select(v => (int)v).ToArray() ?? new int[2 * rank];
        if (strides.Length != rank || dilations.Length != rank || pads.Length != 2 * rank || kernel.Length != rank)
            throw ctx.Error($"strides, dilations, pads and kernel must match the {rank} spatial axes of input {input}.");
        if (strides.Any(v => v < 1) || dilations.Any(v => v < 1) || pads.Any(v => v < 0) || kernel.Any(v => v < 1))
            throw ctx.Error("strides, dilations and kernel sizes must be positive and pads non-negative.");
        var autoPad = ctx.String("auto_pad", "NOTSET");
        if (autoPad is "SAME_UPPER" or "SAME_LOWER")
        {
            for (var i = 0; i < rank; i++)
            {
                long inSize = input.Dims[2 + i];
                var outSize = (inSize + strides[i] - 1) / strides[i];
                var total = Math.Max(0, (outSize - 1) * strides[i] + (long)dilations[i] * (kernel[i] - 1) + 1 - inSize);
                if (total > int.MaxValue / 2) throw ctx.Error($"auto_pad {autoPad} would pad axis {i} by {total}: the kernel does not fit input {input}.");
                var small = (int)(total / 2);
                (pads[i], pads[i + rank]) = autoPad == "SAME_UPPER" ? (small, (int)total - small) : ((int)total - small, small);
            }
        }
        else if (autoPad is not ("NOTSET" or "VALID" or ""))
        {
            throw ctx.Error($"auto_pad '{autoPad}' is not supported.");
        }
        if (autoPad == "VALID") pads = new int[2 * rank];
        var attrs = OpAttributes.Of(("strides", strides), ("dilations", dilations), ("pads", pads));
        if (conv) attrs = attrs.With("group", (int)ctx.Int("group", 1));
        else attrs = attrs.With("kernel_shape", kernel);
        if (!conv) attrs = attrs.With("ceil_mode", ctx.Int("ceil_mode", 0));
        return attrs;
    }

    /// <summary>A broadcasting elementwise operation on two bool tensors (And, Or).</summary>
    public static Tensor BoolBinary(NodeContext ctx, Func<bool, bool, bool> op)
    {
        var shape = Shape.Broadcast(ctx.Input(0).Shape, ctx.Input(1).Shape);
        var a = Ops.Expand(ctx.Input(0), shape).Span<bool>().ToArray();
        var b = Ops.Expand(ctx.Input(1), shape).Span<bool>().ToArray();
        return new Tensor(a.Select((v, i) => op(v, b[i])).ToArray(), shape);
    }

    /// <summary>Softmax-family semantics before opset 13: the input is coerced to 2-D at axis (default 1) and normalised over the trailing block.</summary>
    public static Tensor Coerced2D(NodeContext ctx, Func<Tensor, int, Tensor> op)
    {
        var x = ctx.Input(0);
        var axis = Shape.NormalizeAxis((int)ctx.Int("axis", 1), x.Rank);
        var outer = x.Shape.Dims[..axis].ToArray().Aggregate(1, (a, b) => a * b);
        var y = op(Ops.Reshape(x, outer, x.Size / Math.Max(outer, 1)), -1);
        return Ops.Reshape(y, x.Shape.ToArray());
    }

    /// <summary>Shape [1, C, 1, …] for broadcasting a per-channel vector over an NC… tensor.</summary>
    public static int[] ChannelShape(Tensor x, int channels)
    {
        if (x.Rank < 2) throw new ShapeException($"input {x.Shape} has no channel axis (rank 2 or more is needed).");
        var s = Enumerable.Repeat(1, x.Rank).ToArray();
        s[1] = channels;
        return s;
    }
}

/// <summary>Order-only ops (max, min, pooling by maximum) on bool and integer tensors, computed in float64 and cast back.</summary>
internal static class ThroughFloat64
{
    /// <summary>
    /// <paramref name="op"/> applied to <paramref name="x"/> as float64 when it is bool or int64 (exact for integers of
    /// magnitude up to 2⁵³, which covers every narrower ONNX integer type; larger int64 values are refused), the result
    /// cast back to x's type; floating-point tensors pass straight to <paramref name="op"/>.
    /// </summary>
    public static Tensor Apply(Tensor x, Func<Tensor, Tensor> op, NodeContext ctx) => Narrow(op(Widen(x, ctx)), x.DType);

    /// <summary>x as float64 when it is bool or int64 (refusing int64 values beyond ±2⁵³); floating-point x as it is.</summary>
    public static Tensor Widen(Tensor x, NodeContext ctx)
    {
        if (x.DType.IsFloatingPoint()) return x;
        if (x.DType == DType.Int64 && x.ToInt64Array().Any(v => v > 1L << 53 || v < -(1L << 53)))
            throw ctx.Error("int64 values beyond ±2^53 are not supported here (they are computed in float64).");
        return Ops.Cast(x, DType.Float64);
    }

    /// <summary>A result of <see cref="Widen"/>'s input back in the original type <paramref name="dtype"/>.</summary>
    public static Tensor Narrow(Tensor y, DType dtype) => y.DType == dtype ? y : Ops.Cast(y, dtype);
}

/// <summary>
/// Base of the Reduce* importers: axes are an attribute before <see cref="AxesInputSince"/> and an optional input from
/// it; empty axes mean all axes unless noop_with_empty_axes; keepdims defaults to 1.
/// </summary>
internal abstract class ReduceImporter : INodeImporter
{
    public abstract string OpType { get; }

    /// <summary>The opset from which axes come as an input.</summary>
    protected virtual int AxesInputSince => 18;

    /// <summary>The reduction itself.</summary>
    protected abstract Tensor Reduce(Tensor x, int[] axes, bool keepDims, NodeContext ctx);

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        if (Axes(ctx, x.Rank) is not { } reduction) return [x];
        return [Reduce(x, reduction.Axes, reduction.KeepDims, ctx)];
    }

    /// <summary>The node's reduced axes (normalised, for an input of <paramref name="rank"/>) and keepdims; null for a no-op.</summary>
    public (int[] Axes, bool KeepDims)? Axes(NodeContext ctx, int rank)
    {
        var raw = ctx.Opset < AxesInputSince ? ctx.Ints("axes") : ctx.Optional(1)?.ToInt64Array();
        var keep = ctx.Int("keepdims", 1) != 0;
        if ((raw is null || raw.Length == 0) && ctx.Int("noop_with_empty_axes", 0) != 0) return null;
        return (raw is null || raw.Length == 0 ? Enumerable.Range(0, rank).ToArray() : Helpers.Axes(raw, rank), keep);
    }
}
