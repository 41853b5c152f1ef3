namespace Backprop;

/// <summary>Resolves kernels (non-differentiable, span-based compute routines) registered by plugins.</summary>
public interface IKernelProvider
{
    /// <summary>The highest-priority kernel implementing <typeparamref name="TKernel"/>; throws if none.</summary>
    TKernel Get<TKernel>() where TKernel : class;

    /// <summary>Every registered implementation of <typeparamref name="TKernel"/>, highest priority first.</summary>
    IReadOnlyList<TKernel> GetAll<TKernel>() where TKernel : class;
}
