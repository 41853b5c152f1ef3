namespace Backprop;

public static partial class Ops
{
    /// <summary>Sum over <paramref name="axes"/> (all when empty).</summary>
    public static Tensor ReduceSum(Tensor x, int[]? axes = null, bool keepDims = false) => Reduce("ReduceSum", x, axes, keepDims);

    /// <summary>Mean over <paramref name="axes"/> (all when empty).</summary>
    public static Tensor ReduceMean(Tensor x, int[]? axes = null, bool keepDims = false) => Reduce("ReduceMean", x, axes, keepDims);

    /// <summary>Maximum over <paramref name="axes"/>; ties share the gradient equally.</summary>
    public static Tensor ReduceMax(Tensor x, int[]? axes = null, bool keepDims = false) => Reduce("ReduceMax", x, axes, keepDims);

    /// <summary>Minimum over <paramref name="axes"/>; ties share the gradient equally.</summary>
    public static Tensor ReduceMin(Tensor x, int[]? axes = null, bool keepDims = false) => Reduce("ReduceMin", x, axes, keepDims);

    /// <summary>Product over <paramref name="axes"/> (all when empty); exact gradients where inputs are zero.</summary>
    public static Tensor ReduceProd(Tensor x, int[]? axes = null, bool keepDims = false) => Reduce("ReduceProd", x, axes, keepDims);

    /// <summary>Sum of all elements as a 0-d tensor.</summary>
    public static Tensor Sum(Tensor x) => ReduceSum(x);

    /// <summary>Mean of all elements as a 0-d tensor.</summary>
    public static Tensor Mean(Tensor x) => ReduceMean(x);

    private static Tensor Reduce(string name, Tensor x, int[]? axes, bool keepDims) =>
        Call(name, OpAttributes.Of(("axes", axes ?? []), ("keepdims", keepDims ? 1 : 0)), x);
}
