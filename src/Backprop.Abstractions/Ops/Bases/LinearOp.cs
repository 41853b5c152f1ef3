namespace Backprop;

/// <summary>
/// Base of ops linear in their floating-point inputs (reshape, transpose, slice, sum, add…): the JVP
/// is the op itself applied to the tangents (absent tangents as zeros). Subclasses write the VJP.
/// </summary>
public abstract class LinearOp : IDifferentiableOp
{
    /// <inheritdoc />
    public abstract OpSchema Schema { get; }

    /// <inheritdoc />
    public abstract Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> inputs);

    /// <inheritdoc />
    public abstract Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> gradOutputs);

    /// <inheritdoc />
    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> inputTangents)
    {
        var any = false;
        foreach (var t in inputTangents) any |= t is not null;
        if (!any) return new Tensor?[ctx.OutputCount];
        var args = new Tensor[ctx.InputCount];
        for (var i = 0; i < args.Length; i++)
        {
            var x = ctx.Input(i);
            args[i] = x.DType.IsFloatingPoint() ? inputTangents[i] ?? Tensor.ZerosLike(x) : x;
        }
        return TensorRuntime.Current.Invoke(this, args, ctx.Attributes);
    }
}

/// <summary>
/// Base of ops bilinear in two inputs (Mul, MatMul): the JVP is f(ta, b) + f(a, tb). Subclasses write the VJP.
/// </summary>
public abstract class BilinearOp : IDifferentiableOp
{
    /// <inheritdoc />
    public abstract OpSchema Schema { get; }

    /// <inheritdoc />
    public abstract Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> inputs);

    /// <inheritdoc />
    public abstract Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> gradOutputs);

    /// <inheritdoc />
    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> inputTangents)
    {
        var rt = TensorRuntime.Current;
        Tensor? left = inputTangents[0] is { } ta ? rt.Invoke(this, [ta, ctx.Input(1)], ctx.Attributes)[0] : null;
        Tensor? right = inputTangents[1] is { } tb ? rt.Invoke(this, [ctx.Input(0), tb], ctx.Attributes)[0] : null;
        return [left is null ? right : right is null ? left : Ops.Add(left, right)];
    }
}

/// <summary>Marks an op that the engine expands into its composition instead of recording it as one node.</summary>
public interface ICompositeOp
{
    /// <summary>Computes the outputs with differentiable ops; their rules give this op's derivatives.</summary>
    Tensor[] Compose(ReadOnlySpan<Tensor> inputs, OpAttributes attributes);
}

/// <summary>
/// A composite op's fused kernel. When nothing is recorded (grad mode off or no input requiring grad) and no forward-mode
/// tangent is active, the engine runs <see cref="RunFused"/> as one op instead of expanding the composition; whenever
/// derivatives are being taken the composition runs, so the rules still come from its parts. The fused kernel must
/// compute what the composition computes (the conformance kit's finite differences run on it and the rules on the parts).
/// </summary>
public interface IFusedKernel
{
    /// <summary>The composition's outputs, computed in one pass; may throw to report bad inputs as the composition would.</summary>
    Tensor[] RunFused(OpContext ctx, ReadOnlySpan<Tensor> inputs);
}

/// <summary>
/// Base of ops written as a composition of other ops (Gemm, MSE, GELU-tanh…). The engine expands it, so
/// reverse, forward and higher-order derivatives come from the parts; a fused replacement with its own
/// rules can take its key later.
/// </summary>
public abstract class CompositeOp : IDifferentiableOp, ICompositeOp
{
    /// <inheritdoc />
    public abstract OpSchema Schema { get; }

    /// <inheritdoc />
    public abstract Tensor[] Compose(ReadOnlySpan<Tensor> inputs, OpAttributes attributes);

    /// <inheritdoc />
    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> inputs) => Compose(inputs, ctx.Attributes);

    /// <inheritdoc />
    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> gradOutputs) => throw Expanded();

    /// <inheritdoc />
    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> inputTangents) => throw Expanded();

    private InvalidOperationException Expanded() =>
        new($"{Schema.QualifiedName} is a composite op: the engine records its parts, never the op itself.");
}
