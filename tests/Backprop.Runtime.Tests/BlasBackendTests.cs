using Backprop.Runtime;
using static Backprop.Tests.TestEnv;

namespace Backprop.Tests;

[CollectionDefinition("Process environment", DisableParallelization = true)]
public class ProcessEnvironmentCollection;

/// <summary>The MKL plugin with and without MKL on the machine.</summary>
[Collection("Process environment")]
public class BlasBackendTests
{
    [Fact]
    public void Without_MKL_the_plugin_registers_nothing_says_why_and_the_managed_GEMM_serves()
    {
        var previous = Environment.GetEnvironmentVariable("BACKPROP_BLAS_LIB");
        Environment.SetEnvironmentVariable("BACKPROP_BLAS_LIB", "/nonexistent/libmkl_rt.so");
        try
        {
            var rt = BackpropRuntime.Create(new RuntimeOptions());
            var blas = Assert.Single(rt.Plugins, p => p.Name == "Ops.Blas");
            Assert.Empty(blas.Kernels);
            Assert.Contains(blas.Notes, n => n.Contains("MKL backend disabled") && n.Contains("/nonexistent/libmkl_rt.so"));
            var gemm = Assert.Single(rt.KernelRegistry.GetAll<IGemm>());
            Assert.StartsWith("managed", gemm.Name);
            using var _ = rt.Activate();
            var a = Tensor.FromArray(new double[] { 1, 2, 3, 4 }, 2, 2);
            Close([7, 10, 15, 22], Ops.MatMul(a, a));
        }
        finally
        {
            Environment.SetEnvironmentVariable("BACKPROP_BLAS_LIB", previous);
        }
    }

    [Fact]
    public void When_MKL_is_installed_it_is_registered_above_the_managed_kernel()
    {
        var mklPresent = File.Exists("/usr/lib/x86_64-linux-gnu/libmkl_rt.so") && Environment.GetEnvironmentVariable("BACKPROP_BLAS_LIB") is null;
        var blas = Assert.Single(TestEnv.Runtime.Plugins, p => p.Name == "Ops.Blas");
        if (!mklPresent)
        {
            Assert.Empty(blas.Kernels);
            return;
        }
        Assert.StartsWith("MKL", TestEnv.Runtime.KernelRegistry.Get<IGemm>().Name);
        Assert.Contains(blas.Notes, n => n.Contains("LP64"));
    }

    [Fact]
    public void Pinning_a_backend_by_environment_routes_every_shape_to_it()
    {
        var previous = Environment.GetEnvironmentVariable("BACKPROP_GEMM");
        Environment.SetEnvironmentVariable("BACKPROP_GEMM", "managed");
        try
        {
            var rt = BackpropRuntime.Create(new RuntimeOptions());
            var router = rt.KernelRegistry.Get<IGemmRouter>();
            var chosen = router.Select(rt.Kernels, false, true, 300, 200, 100, DType.Float32);
            Assert.StartsWith("managed", chosen.Name);
            Assert.Contains(router.Routes, r => r.Reason == "BACKPROP_GEMM=managed");
        }
        finally
        {
            Environment.SetEnvironmentVariable("BACKPROP_GEMM", previous);
        }
    }
}
