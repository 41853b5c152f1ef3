using BenchmarkDotNet.Attributes;
using TorchSharp;
using static TorchSharp.torch;

namespace Backprop.Bench.Torch;

// Backprop.Tensor (the referenced Backprop.Bench brings it) would win the lookup from inside namespace Backprop.
using Tensor = TorchSharp.torch.Tensor;

/// <summary>The same chain as Backprop's TinyOpBenchmarks, in TorchSharp (libtorch), two threads like Backprop.</summary>
[MemoryDiagnoser]
public class TorchTinyOpBenchmarks
{
    public const int Chain = 100;
    private Tensor _x = null!;
    private Tensor _b = null!;

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(2);
        _x = torch.tensor(new float[] { 1, 2, 3, 4 }, requires_grad: true);
        _b = torch.tensor(new float[] { 0.5f, 0.25f, 0.125f, 1 });
    }

    [Benchmark(OperationsPerInvoke = Chain)]
    public void AddWithAutograd()
    {
        using var scope = torch.NewDisposeScope();
        var y = _x;
        for (var i = 0; i < Chain; i++) y = y + _b;
        y.backward([torch.ones_like(y)]);
        _x.grad?.zero_();
    }

    [Benchmark(OperationsPerInvoke = Chain)]
    public void AddNoGrad()
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var y = _x;
        for (var i = 0; i < Chain; i++) y = y + _b;
    }
}
