using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;

namespace Backprop.Bench;

/// <summary>
/// The machine's float32 FMA ceiling, measured rather than taken from a data sheet: twelve independent chains of fused
/// multiply-adds on registers (no memory traffic), on one core and on every core at once. GFLOP/s =
/// <see cref="FlopsPerCore"/> × cores ÷ mean time (bench/report.py). GEMM rows are read against this ceiling.
/// </summary>
public class PeakBenchmarks
{
    /// <summary>Loop trips per core; 12 FMAs per trip.</summary>
    public const int Trips = 2_000_000;

    /// <summary>Floating-point operations per core of the Vector512 case (2 per lane per FMA).</summary>
    public const double FlopsPerCore = 12.0 * 2 * 16 * Trips;

    [Benchmark]
    public float Fma512OneCore() => Chains512(Trips, 0.5f);

    [Benchmark]
    public float Fma256OneCore() => Chains256(Trips, 0.5f) + Chains256(Trips, 0.25f); // two 8-lane runs = the flops of one 16-lane run

    [Benchmark]
    public float Fma512AllCores()
    {
        var sums = new float[Environment.ProcessorCount];
        Parallel.For(0, sums.Length, new ParallelOptions { MaxDegreeOfParallelism = sums.Length }, i => sums[i] = Chains512(Trips, 0.5f + i));
        return sums.Sum();
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chains512(int trips, float seed)
    {
        var (x, y) = (Vector512.Create(seed), Vector512.Create(0.999f));
        Vector512<float> c0 = x, c1 = x + y, c2 = c1 + y, c3 = c2 + y, c4 = c3 + y, c5 = c4 + y;
        Vector512<float> c6 = c5 + y, c7 = c6 + y, c8 = c7 + y, c9 = c8 + y, c10 = c9 + y, c11 = c10 + y;
        for (var i = 0; i < trips; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, y, x); c1 = Vector512.FusedMultiplyAdd(c1, y, x);
            c2 = Vector512.FusedMultiplyAdd(c2, y, x); c3 = Vector512.FusedMultiplyAdd(c3, y, x);
            c4 = Vector512.FusedMultiplyAdd(c4, y, x); c5 = Vector512.FusedMultiplyAdd(c5, y, x);
            c6 = Vector512.FusedMultiplyAdd(c6, y, x); c7 = Vector512.FusedMultiplyAdd(c7, y, x);
            c8 = Vector512.FusedMultiplyAdd(c8, y, x); c9 = Vector512.FusedMultiplyAdd(c9, y, x);
            c10 = Vector512.FusedMultiplyAdd(c10, y, x); c11 = Vector512.FusedMultiplyAdd(c11, y, x);
        }
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chains256(int trips, float seed)
    {
        var (x, y) = (Vector256.Create(seed), Vector256.Create(0.999f));
        Vector256<float> c0 = x, c1 = x + y, c2 = c1 + y, c3 = c2 + y, c4 = c3 + y, c5 = c4 + y;
        Vector256<float> c6 = c5 + y, c7 = c6 + y, c8 = c7 + y, c9 = c8 + y, c10 = c9 + y, c11 = c10 + y;
        for (var i = 0; i < trips; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, y, x); c1 = Vector256.FusedMultiplyAdd(c1, y, x);
            c2 = Vector256.FusedMultiplyAdd(c2, y, x); c3 = Vector256.FusedMultiplyAdd(c3, y, x);
            c4 = Vector256.FusedMultiplyAdd(c4, y, x); c5 = Vector256.FusedMultiplyAdd(c5, y, x);
            c6 = Vector256.FusedMultiplyAdd(c6, y, x); c7 = Vector256.FusedMultiplyAdd(c7, y, x);
            c8 = Vector256.FusedMultiplyAdd(c8, y, x); c9 = Vector256.FusedMultiplyAdd(c9, y, x);
            c10 = Vector256.FusedMultiplyAdd(c10, y, x); c11 = Vector256.FusedMultiplyAdd(c11, y, x);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }
}
