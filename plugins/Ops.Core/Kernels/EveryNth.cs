using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Plugins.Core;

/// <summary>
/// dst[i] = src[n·i]: the strided gathers of im2col, pooling, phase splits and Winograd's tile columns. A copy for n = 1;
/// for n = 2 and 4, where the CPU has AVX-512, two-source permutes make 16 floats (or 8 doubles) at a time — one for
/// every other element, three for every fourth; element by element otherwise.
/// </summary>
internal static class EveryNth
{
    private static readonly Vector512<int> EvenInts = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    private static readonly Vector512<long> EvenLongs = Vector512.Create(0L, 2, 4, 6, 8, 10, 12, 14);

    // Lanes 0–7 take every fourth element of the pair (a, b); the join takes the first halves of two such results.
    private static readonly Vector512<int> QuarterInts = Vector512.Create(0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28);
    private static readonly Vector512<int> JoinInts = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
    private static readonly Vector512<long> QuarterLongs = Vector512.Create(0L, 4, 8, 12, 0, 4, 8, 12);
    private static readonly Vector512<long> JoinLongs = Vector512.Create(0L, 1, 2, 3, 8, 9, 10, 11);

    /// <summary>dst[i] = src[n·i] for every i of dst.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gather<T>(int n, ReadOnlySpan<T> src, Span<T> dst) where T : unmanaged
    {
        if (n == 1)
        {
            src[..dst.Length].CopyTo(dst);
            return;
        }
        var i = n switch { 2 => Second(src, dst), 4 => Fourth(src, dst), _ => 0 };
        for (; i < dst.Length; i++) dst[i] = src[n * i];
    }

    /// <summary>The vector part of every other element; returns how many of dst it wrote.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Second<T>(ReadOnlySpan<T> src, Span<T> dst) where T : unmanaged
    {
        var i = 0;
        if (Avx512F.IsSupported && typeof(T) == typeof(float))
        {
            var s = MemoryMarshal.Cast<T, float>(src);
            var d = MemoryMarshal.Cast<T, float>(dst);
            // Each step reads src[2i .. 2i+32), so it needs 32 readable elements.
            for (; i + 16 <= d.Length && 2 * i + 32 <= s.Length; i += 16)
                Avx512F.PermuteVar16x32x2(Vector512.Create(s.Slice(2 * i, 16)), EvenInts, Vector512.Create(s.Slice(2 * i + 16, 16))).CopyTo(d.Slice(i, 16));
        }
        else if (Avx512F.IsSupported && typeof(T) == typeof(double))
        {
            var s = MemoryMarshal.Cast<T, double>(src);
            var d = MemoryMarshal.Cast<T, double>(dst);
            for (; i + 8 <= d.Length && 2 * i + 16 <= s.Length; i += 8)
                Avx512F.PermuteVar8x64x2(Vector512.Create(s.Slice(2 * i, 8)), EvenLongs, Vector512.Create(s.Slice(2 * i + 8, 8))).CopyTo(d.Slice(i, 8));
        }
        return i;
    }

    /// <summary>The vector part of every fourth element; returns how many of dst it wrote.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Fourth<T>(ReadOnlySpan<T> src, Span<T> dst) where T : unmanaged
    {
        var i = 0;
        if (Avx512F.IsSupported && typeof(T) == typeof(float))
        {
            var s = MemoryMarshal.Cast<T, float>(src);
            var d = MemoryMarshal.Cast<T, float>(dst);
            // Each step reads src[4i .. 4i+64), so it needs 64 readable elements.
            for (; i + 16 <= d.Length && 4 * i + 64 <= s.Length; i += 16)
            {
                var at = s.Slice(4 * i, 64);
                var lo = Avx512F.PermuteVar16x32x2(Vector512.Create(at[..16]), QuarterInts, Vector512.Create(at.Slice(16, 16)));
                var hi = Avx512F.PermuteVar16x32x2(Vector512.Create(at.Slice(32, 16)), QuarterInts, Vector512.Create(at.Slice(48, 16)));
                Avx512F.PermuteVar16x32x2(lo, JoinInts, hi).CopyTo(d.Slice(i, 16));
            }
        }
        else if (Avx512F.IsSupported && typeof(T) == typeof(double))
        {
            var s = MemoryMarshal.Cast<T, double>(src);
            var d = MemoryMarshal.Cast<T, double>(dst);
            for (; i + 8 <= d.Length && 4 * i + 32 <= s.Length; i += 8)
            {
                var at = s.Slice(4 * i, 32);
                var lo = Avx512F.PermuteVar8x64x2(Vector512.Create(at[..8]), QuarterLongs, Vector512.Create(at.Slice(8, 8)));
                var hi = Avx512F.PermuteVar8x64x2(Vector512.Create(at.Slice(16, 8)), QuarterLongs, Vector512.Create(at.Slice(24, 8)));
                Avx512F.PermuteVar8x64x2(lo, JoinLongs, hi).CopyTo(d.Slice(i, 8));
            }
        }
        return i;
    }
}
