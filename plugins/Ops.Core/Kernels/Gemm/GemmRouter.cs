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
    private readonly ConcurrentDictionary<string, (IGemm Gemm, GemmRoute Route)> _cache = new();
    private readonly Lock _calibration = new();

    public IReadOnlyList<GemmRoute> Routes => _cache.Values.Select(v => v.Route).OrderBy(r => r.ShapeClass, StringComparer.Ordinal).ToList();

    public IGemm Select(IKernelProvider kernels, bool transA, bool transB, int m, int n, int k, DType dtype)
    {
        var backends = kernels.GetAll<IGemm>();
        if (backends.Count == 1) return backends[0];
        var key = $"{dtype} {(transA ? "T" : "N")}{(transB ? "T" : "N")} m~{Bucket(m)} n~{Bucket(n)} k~{Bucket(k)}";
        if (_cache.TryGetValue(key, out var hit)) return hit.Gemm;
        lock (_calibration)
        {
            if (_cache.TryGetValue(key, out hit)) return hit.Gemm;
            var chosen = Decide(backends, key, transA, transB, m, n, k, dtype);
            _cache[key] = chosen;
            return chosen.Gemm;
        }
    }

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
        var timings = backends.Select(b => (Gemm: b, Seconds: Time(b, ta, tb, m, n, k, dtype))).ToList();
        var best = timings.MinBy(t => t.Seconds);
        var flops = 2.0 * m * n * k;
        var reason = "measured " + string.Join(", ", timings.Select(t => $"{t.Gemm.Name} {flops / t.Seconds / 1e9:F1} GFLOP/s"));
        return (best.Gemm, new GemmRoute(key, best.Gemm.Name, reason));
    }

    /// <summary>Best of a few runs on scratch data of the real size (capped so calibration stays short).</summary>
    private static double Time(IGemm gemm, bool ta, bool tb, int m, int n, int k, DType dtype)
    {
        const long maxElements = 1 << 24;
        if ((long)m * k > maxElements || (long)k * n > maxElements || (long)m * n > maxElements)
        {
            // Very large products: time a slice of rows (GEMM cost is linear in m).
            var rows = (int)Math.Max(1, Math.Min(m, maxElements / Math.Max(Math.Max(k, n), 1)));
            return Time(gemm, ta, tb, rows, n, k, dtype) * m / rows;
        }
        var flops = 2.0 * m * n * k;
        var runs = flops > 1e9 ? 2 : flops > 1e7 ? 4 : 16;
        return dtype == DType.Float64 ? Run<double>(gemm, ta, tb, m, n, k, runs) : Run<float>(gemm, ta, tb, m, n, k, runs);
    }

    private static double Run<T>(IGemm gemm, bool ta, bool tb, int m, int n, int k, int runs) where T : unmanaged, INumber<T>
    {
        var a = new T[m * k];
        var b = new T[k * n];
        var c = new T[m * n];
        a.AsSpan().Fill(T.One);
        b.AsSpan().Fill(T.One);
        var best = double.MaxValue;
        for (var r = 0; r <= runs; r++)
        {
            var sw = Stopwatch.StartNew();
            if (typeof(T) == typeof(float))
                gemm.Gemm(ta, tb, m, n, k, 1f, (float[])(object)a, ta ? m : k, (float[])(object)b, tb ? k : n, 0f, (float[])(object)c, n);
            else
                gemm.Gemm(ta, tb, m, n, k, 1d, (double[])(object)a, ta ? m : k, (double[])(object)b, tb ? k : n, 0d, (double[])(object)c, n);
            if (r > 0) best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return best;
    }
}
