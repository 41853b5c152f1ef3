[assembly: Backprop.BackpropPlugin(typeof(Backprop.Plugins.Blas.BlasModule))]

namespace Backprop.Plugins.Blas;

/// <summary>Registers the MKL GEMM when libmkl_rt loads; otherwise registers nothing and says why, once.</summary>
public sealed class BlasModule : IOpModule
{
    /// <inheritdoc />
    public void Register(IOpRegistry registry)
    {
        var mkl = NativeMethods.TryLoad(out var reason);
        if (mkl is null)
        {
            registry.Note($"MKL backend disabled: {reason}. The managed GEMM serves.");
            return;
        }
        registry.Note($"MKL {mkl.Version} from {mkl.Path}, {mkl.Threading.Name} threading, {mkl.Threads} threads, LP64 interface, reproducibility {mkl.Reproducible}.");
        registry.AddKernel<IGemm>(new MklGemm(mkl), priority: 10);
    }
}
