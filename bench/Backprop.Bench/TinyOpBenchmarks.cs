using BenchmarkDotNet.Attributes;
using Backprop.Runtime;

namespace Backprop.Bench;

/// <summary>
/// Per-op overhead: a chain of <see cref="Ops"/> adds of two 4-element float32 tensors. With autograd the
/// chain is recorded and differentiated, so each op's cost includes its share of backward.
/// Results are per chain; divide by <see cref="Chain"/> for per-op figures.
/// </summary>
[MemoryDiagnoser]
public class TinyOpBenchmarks
{
    public const int Chain = 100;
    private Tensor _x = null!;
    private Tensor _b = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ = BackpropRuntime.Default;
        _x = Tensor.FromArray(new float[] { 1, 2, 3, 4 });
        _x.RequiresGrad = true;
        _b = Tensor.FromArray(new float[] { 0.5f, 0.25f, 0.125f, 1 });
    }

    [Benchmark(OperationsPerInvoke = Chain)]
    public Tensor AddWithAutograd()
    {
        var y = _x;
        for (var i = 0; i < Chain; i++) y = y + _b;
        y.Backward(Tensor.OnesLike(y));
        _x.Grad = null;
        return y;
    }

    [Benchmark(OperationsPerInvoke = Chain)]
    public Tensor AddNoGrad()
    {
        using var _ = GradMode.NoGrad();
        var y = _x;
        for (var i = 0; i < Chain; i++) y = y + _b;
        return y;
    }
}
