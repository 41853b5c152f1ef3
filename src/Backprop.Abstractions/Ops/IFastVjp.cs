namespace Backprop;

/// <summary>
/// An op with a faster first-order VJP written with raw kernels. The engine calls <see cref="FastVjp"/> when the backward
/// pass builds no graph (createGraph false) and no forward-mode dual level is active, and the op's differentiable
/// <see cref="IDifferentiableOp.Vjp"/> otherwise, so higher-order derivatives still come from the rules written in ops.
/// Both must give the same gradient: the conformance kit's first-order checks run through this one, its second-order
/// checks through the other.
/// </summary>
public interface IFastVjp
{
    /// <summary>The input gradients, as <see cref="IDifferentiableOp.Vjp"/> would return them; null to decline (the engine then calls Vjp).</summary>
    Tensor?[]? FastVjp(OpContext ctx, ReadOnlySpan<Tensor?> gradOutputs);
}
