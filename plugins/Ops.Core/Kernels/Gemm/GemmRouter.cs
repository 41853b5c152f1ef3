using System.Collections.Concurrent;
using System.Diagnostics;
using System.Numerics;

namespace Backprop.Plugins.Core;

/// <summary>
/// Routes each GEMM to the fastest registered backend for its shape class, measured on first use (one warm-up
/// and a few timed runs of each backend on scratch data of the real size) and cached for the process.
/// BACKPROP_GEMM=managed|mkl|auto pins a backend by name prefix ("auto" measures).
/// </summary>
internal sealed class GemmRouter : IGemmRouter
{
    private readonly ConcurrentDictionary<(DType, bool, bool, int, int, int), (IGemm Gemm, GemmRoute Route)> _cache = new();
    private readonly Lock _calibration = new();

    public IReadOnlyList<GemmRoute> Routes => _cache.Values.Select(v => v.Route).OrderBy(r => r.ShapeClass, StringComparer.Ordinal).ToList();

    public IGemm Select(IKernelProvider kernels, bool transA, bool transB, int m, int n, int k, DType dtype)
    {
        var backends = kernels.GetAll<IGemm>();
        if (backends.Count == 1) return backends[0];
        var key = (dtype, transA, transB, Bucket(m), Bucket(n), Bucket(k));
        if (_cache.TryGetValue(key, out var hit)) return hit.Gemm;
        lock (_calibration)
        {
            if (_cache.TryGetValue(key, out hit)) return hit.Gemm;
            var shapeClass = $"{dtype} {(transA ? "T" : "N")}{(transB ? "T" : "N")} m~{key.Item4} n~{key.Item5} k~{key.Item6}";
            var chosen = Decide(backends, shapeClass, transA, transB, m, n, k, dtype);
            _cache[key] = chosen;
            return chosen.Gemm;
        }
    }

    /// <summary>How much faster another backend must measure to take a shape class from the managed kernel.</summary>
    private const double Margin = 1.2;

    private static int Bucket(int v) => v <= 1 ? 1 : (int)BitOperations.RoundUpToPowerOf2((uint)v);

    private static (IGemm Gemm, GemmRoute Route) Decide(IReadOnlyList<IGemm> backends, string key, bool ta, bool tb, int m, int n, int k, DType dtype)
    {
        var policy = Environment.GetEnvironmentVariable("BACKPROP_GEMM")?.Trim().ToLowerInvariant();
        if (!string.IsNullOrEmpty(policy) && policy != "auto")
        {
            var pinned = backends.FirstOrDefault(b => b.Name.StartsWith(policy, StringComparison.OrdinalIgnoreCase));
            if (pinned is not null) return (pinned, new GemmRoute(key, pinned.Name, $"BACKPROP_GEMM={policy}"));
            var fallback = backends[0];
            return (fallback, new GemmRoute(key, fallback.Name, $"BACKPROP_GEMM={policy} names no loaded backend ({string.Join(", ", backends.Select(b => b.Name))}); using the highest priority"));
        }
        var timings = Time(backends, ta, tb, m, n, k, dtype);
        var best = timings.MinBy(t => t.Seconds);
        var flops = 2.0 * m * n * k;
        var reason = "measured " + string.Join(", ", timings.Select(t => $"{t.Gemm.Name} {flops / t.Seconds / 1e9:F1} GFLOP/s"));
        // Hysteresis toward the managed kernel: alternating backends between neighbouring GEMMs costs more than a small
        // edge (each backend's idle threads wake or spin against the other's), and timings on a busy 2-core machine are
        // noisy. Another backend must be clearly faster to take a shape class.
        var home = timings.FirstOrDefault(t => t.Gemm is PackedGemm);
        if (home.Gemm is not null && best.Seconds * Margin > home.Seconds)
            return (home.Gemm, new GemmRoute(key, home.Gemm.Name, reason + $"; kept {home.Gemm.Name} (another backend must be {Margin:F2}× faster)"));
        return (best.Gemm, new GemmRoute(key, best.Gemm.Name, reason));
    }

    /// <summary>
    /// Best time of each backend on scratch data, the backends taking turns (so a burst of noise from the machine hits all
    /// of them) for a few rounds and until each has run about 20 ms. Dimensions above 2048 are sampled at 2048 and the time
    /// scaled by the flop ratio, so calibrating a huge product (e.g. an im2col GEMM) stays short and never allocates much.
    /// </summary>
    private static List<(IGemm Gemm, double Seconds)> Time(IReadOnlyList<IGemm> backends, bool ta, bool tb, int m, int n, int k, DType dtype)
    {
        const int cap = 2048;
        var (sm, sn, sk) = (Math.Min(m, cap), Math.Min(n, cap), Math.Min(k, cap));
        var scale = (double)m * n * k / ((double)sm * sn * sk);
        var best = new double[backends.Count];
        Array.Fill(best, double.MaxValue);
        var spent = new double[backends.Count];
        var scratch = dtype == DType.Float64 ? Scratch<double>(sm, sn, sk) : Scratch<float>(sm, sn, sk);
        for (var i = 0; i < backends.Count; i++) Once(backends[i], ta, tb, sm, sn, sk, dtype, scratch); // warm-up
        var flops = 2.0 * sm * sn * sk;
        var minRounds = flops > 1e9 ? 2 : flops > 1e7 ? 3 : 5;
        for (var round = 0; round < minRounds || (spent.Min() < 0.02 && round < 200); round++)
        {
            for (var i = 0; i < backends.Count; i++)
            {
                var seconds = Once(backends[i], ta, tb, sm, sn, sk, dtype, scratch);
                best[i] = Math.Min(best[i], seconds);
                spent[i] += seconds;
            }
        }
        return backends.Select((b, i) => (b, best[i] * scale)).ToList();
    }

    private static (Array A, Array B, Array C) Scratch<T>(int m, int n, int k) where T : unmanaged, INumber<T>
    {
        var a = new T[m * k];
        var b = new T[k * n];
        a.AsSpan().Fill(T.One);
        b.AsSpan().Fill(T.One);
        return (a, b, new T[m * n]);
    }

    private static double Once(IGemm gemm, bool ta, bool tb, int m, int n, int k, DType dtype, (Array A, Array B, Array C) s)
    {
        var sw = Stopwatch.StartNew();
        if (dtype == DType.Float64)
            gemm.Gemm(ta, tb, m, n, k, 1d, (double[])s.A, ta ? m : k, (double[])s.B, tb ? k : n, 0d, (double[])s.C, n);
        else
            gemm.Gemm(ta, tb, m, n, k, 1f, (float[])s.A, ta ? m : k, (float[])s.B, tb ? k : n, 0f, (float[])s.C, n);
        return sw.Elapsed.TotalSeconds;
    }
}
