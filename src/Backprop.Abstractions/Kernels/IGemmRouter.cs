namespace Backprop;

/// <summary>Chooses, per shape class, which registered <see cref="IGemm"/> backend serves a product.</summary>
public interface IGemmRouter
{
    /// <summary>The backend for op(A)[m×k]·op(B)[k×n] in <paramref name="dtype"/>, calibrating the shape class on first use.</summary>
    IGemm Select(IKernelProvider kernels, bool transA, bool transB, int m, int n, int k, DType dtype);

    /// <summary>Decisions made so far, with the timings behind them.</summary>
    IReadOnlyList<GemmRoute> Routes { get; }
}

/// <summary>One routing decision.</summary>
/// <param name="ShapeClass">The class of shapes it covers (dtype, transposes, power-of-two buckets of m, n, k).</param>
/// <param name="Backend">Name of the chosen backend.</param>
/// <param name="Reason">Why: the policy, or each backend's measured GFLOP/s.</param>
public sealed record GemmRoute(string ShapeClass, string Backend, string Reason);
