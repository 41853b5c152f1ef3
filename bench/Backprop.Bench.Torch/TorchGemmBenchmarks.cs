using BenchmarkDotNet.Attributes;
using TorchSharp;
using static TorchSharp.torch;

namespace Backprop.Bench.Torch;

// Backprop.Tensor (the referenced Backprop.Bench brings it) would win the lookup from inside namespace Backprop.
using Tensor = TorchSharp.torch.Tensor;

/// <summary>torch.matmul on the shapes of Backprop's GemmBenchmarks (transposes as views), two threads.</summary>
public class TorchGemmBenchmarks
{
    private Tensor _a = null!, _b = null!;

    [ParamsSource(nameof(Shapes))]
    public string Shape { get; set; } = "64";

    [Params(DType.Float32, DType.Float64)]
    public DType Precision { get; set; }

    public enum DType { Float32, Float64 }

    public static IEnumerable<string> Shapes => GemmShapes.Names;

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(2);
        var s = GemmShapes.Of(Shape);
        var type = Precision == DType.Float32 ? ScalarType.Float32 : ScalarType.Float64;
        _a = s.TA ? torch.rand(s.K, s.M, type).t() : torch.rand(s.M, s.K, type);
        _b = s.TB ? torch.rand(s.N, s.K, type).t() : torch.rand(s.K, s.N, type);
    }

    [Benchmark]
    public void TorchSharp()
    {
        using var c = torch.matmul(_a, _b);
    }
}
