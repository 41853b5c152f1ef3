namespace Backprop.Tests;

/// <summary>Every registered GEMM backend against a float64 triple loop: transposes, odd sizes, leading dimensions, alpha/beta.</summary>
public class GemmTests
{
    public static TheoryData<string> Backends()
    {
        var data = new TheoryData<string>();
        foreach (var g in TestEnv.Runtime.KernelRegistry.GetAll<IGemm>()) data.Add(g.Name);
        return data;
    }

    private static IGemm Backend(string name) => TestEnv.Runtime.KernelRegistry.GetAll<IGemm>().Single(g => g.Name == name);

    private static readonly (int M, int N, int K)[] Sizes =
    [
        (1, 1, 1), (1, 7, 3), (5, 1, 9), (3, 5, 7), (8, 32, 16), (17, 33, 9), (33, 31, 29), (67, 65, 63), (9, 3100, 5), (150, 40, 300), (64, 64, 1),
    ];

    [Theory]
    [MemberData(nameof(Backends))]
    public void Float64_matches_the_reference(string backend)
    {
        var gemm = Backend(backend);
        var rng = new Random(1);
        foreach (var (m, n, k) in Sizes)
        foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
        foreach (var pad in new[] { 0, 3 })
        {
            var p = Problem.Make(rng, ta, tb, m, n, k, pad);
            var c = (double[])p.C.Clone();
            gemm.Gemm(ta, tb, m, n, k, p.Alpha, p.A, p.Lda, p.B, p.Ldb, p.Beta, c, p.Ldc);
            p.Check(c, 1e-12, $"{backend} ta={ta} tb={tb} {m}x{n}x{k} pad={pad}");
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Float32_matches_the_reference(string backend)
    {
        var gemm = Backend(backend);
        var rng = new Random(2);
        foreach (var (m, n, k) in Sizes)
        foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
        {
            var p = Problem.Make(rng, ta, tb, m, n, k, pad: 2);
            var c = p.C.Select(v => (float)v).ToArray();
            gemm.Gemm(ta, tb, m, n, k, (float)p.Alpha, p.A.Select(v => (float)v).ToArray(), p.Lda, p.B.Select(v => (float)v).ToArray(), p.Ldb, (float)p.Beta, c, p.Ldc);
            p.Check(c.Select(v => (double)v).ToArray(), 2e-5 * Math.Sqrt(k), $"{backend} float32 ta={ta} tb={tb} {m}x{n}x{k}", float32: true);
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Beta_zero_ignores_garbage_in_C_and_bad_arguments_are_refused(string backend)
    {
        var gemm = Backend(backend);
        var c = new[] { double.NaN, double.NaN, double.NaN, double.NaN };
        gemm.Gemm(false, false, 2, 2, 1, 1.0, new double[] { 1, 2 }, 1, new double[] { 3, 4 }, 2, 0.0, c, 2);
        Assert.Equal([3.0, 4, 6, 8], c);
        Assert.ThrowsAny<ArgumentException>(() => gemm.Gemm(false, false, 2, 2, 2, 1.0, new double[3], 2, new double[4], 2, 0.0, new double[4], 2));
    }

    private sealed record Problem(double[] A, int Lda, double[] B, int Ldb, double[] C, int Ldc, double Alpha, double Beta, bool TA, bool TB, int M, int N, int K)
    {
        public static Problem Make(Random rng, bool ta, bool tb, int m, int n, int k, int pad)
        {
            var (ar, ac) = ta ? (k, m) : (m, k);
            var (br, bc) = tb ? (n, k) : (k, n);
            double[] R(int len) => Enumerable.Range(0, len).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
            return new Problem(R(ar * (ac + pad)), ac + pad, R(br * (bc + pad)), bc + pad, R(m * (n + pad)), n + pad,
                0.5 + rng.NextDouble(), rng.NextDouble() - 0.5, ta, tb, m, n, k);
        }

        public void Check(double[] actual, double tol, string what, bool float32 = false)
        {
            for (var i = 0; i < M; i++)
            for (var j = 0; j < N; j++)
            {
                double s = 0;
                for (var p = 0; p < K; p++) s += (TA ? A[p * Lda + i] : A[i * Lda + p]) * (TB ? B[j * Ldb + p] : B[p * Ldb + j]);
                var expected = Alpha * s + Beta * C[i * Ldc + j];
                var got = actual[i * Ldc + j];
                if (Math.Abs(expected - got) > tol * Math.Max(1, Math.Abs(expected)))
                    Assert.Fail($"{what}: C[{i},{j}] expected {expected}, got {got}");
            }
            for (var i = 0; i < M; i++)
            for (var j = N; j < Ldc; j++)
                Assert.True(actual[i * Ldc + j] == (float32 ? (float)C[i * Ldc + j] : C[i * Ldc + j]), $"{what}: padding C[{i},{j}] was written");
        }
    }
}
