using BenchmarkDotNet.Attributes;
using Backprop.Runtime;

namespace Backprop.Bench;

/// <summary>GEMM on each backend and through Backprop's routed MatMul. GFLOP/s = 2mnk / mean time (bench/report.py).</summary>
public class GemmBenchmarks
{
    private IGemm _managed = null!;
    private IGemm? _mkl;
    private float[] _a32 = [], _b32 = [], _c32 = [];
    private double[] _a64 = [], _b64 = [], _c64 = [];
    private Tensor _ta = null!, _tb = null!;
    private (bool TA, bool TB, int M, int N, int K) _s;

    [ParamsSource(nameof(Shapes))]
    public string Shape { get; set; } = "64";

    [Params(DType.Float32, DType.Float64)]
    public DType Precision { get; set; }

    public static IEnumerable<string> Shapes => GemmShapes.Names;

    [GlobalSetup]
    public void Setup()
    {
        var rt = BackpropRuntime.Default;
        _managed = rt.KernelRegistry.GetAll<IGemm>().Single(g => g.Name.StartsWith("managed", StringComparison.Ordinal));
        _mkl = rt.KernelRegistry.GetAll<IGemm>().SingleOrDefault(g => g.Name.StartsWith("MKL", StringComparison.Ordinal));
        _s = GemmShapes.Of(Shape);
        var rng = new Random(1);
        var (ar, ac) = _s.TA ? (_s.K, _s.M) : (_s.M, _s.K);
        var (br, bc) = _s.TB ? (_s.N, _s.K) : (_s.K, _s.N);
        _ta = Tensor.Uniform(new Shape(ar, ac), rng, dtype: Precision);
        _tb = Tensor.Uniform(new Shape(br, bc), rng, dtype: Precision);
        if (Precision == DType.Float32)
        {
            (_a32, _b32, _c32) = (_ta.Span<float>().ToArray(), _tb.Span<float>().ToArray(), new float[_s.M * _s.N]);
        }
        else
        {
            (_a64, _b64, _c64) = (_ta.Span<double>().ToArray(), _tb.Span<double>().ToArray(), new double[_s.M * _s.N]);
        }
        Ops.MatMul(_ta, _tb, _s.TA, _s.TB); // calibrates the route outside the measurement
    }

    private void Run(IGemm gemm)
    {
        var lda = _s.TA ? _s.M : _s.K;
        var ldb = _s.TB ? _s.K : _s.N;
        if (Precision == DType.Float32) gemm.Gemm(_s.TA, _s.TB, _s.M, _s.N, _s.K, 1f, _a32, lda, _b32, ldb, 0f, _c32, _s.N);
        else gemm.Gemm(_s.TA, _s.TB, _s.M, _s.N, _s.K, 1d, _a64, lda, _b64, ldb, 0d, _c64, _s.N);
    }

    [Benchmark]
    public void Managed() => Run(_managed);

    [Benchmark]
    public void Mkl()
    {
        if (_mkl is null) throw new InvalidOperationException("MKL is not installed: no MKL rows.");
        Run(_mkl);
    }

    [Benchmark]
    public Tensor Routed()
    {
        using var _ = GradMode.NoGrad();
        return Ops.MatMul(_ta, _tb, _s.TA, _s.TB);
    }
}
