using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Plugins.Core;

/// <summary>
/// dst[i] = src[2·i]: the stride-2 gather of im2col for stride-2 convolutions, 16 floats (or 8 doubles) per AVX-512
/// two-source permute where the CPU has one, element by element elsewhere.
/// </summary>
internal static class EveryOther
{
    private static readonly Vector512<int> EvenInts = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    private static readonly Vector512<long> EvenLongs = Vector512.Create(0L, 2, 4, 6, 8, 10, 12, 14);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gather<T>(ReadOnlySpan<T> src, Span<T> dst) where T : unmanaged
    {
        var i = 0;
        if (Avx512F.IsSupported && typeof(T) == typeof(float))
        {
            var s = MemoryMarshal.Cast<T, float>(src);
            var d = MemoryMarshal.Cast<T, float>(dst);
            // Each step reads src[2i .. 2i+32), so it needs 32 readable elements.
            for (; i + 16 <= d.Length && 2 * i + 32 <= s.Length; i += 16)
            {
                var lo = Vector512.Create(s.Slice(2 * i, 16));
                var hi = Vector512.Create(s.Slice(2 * i + 16, 16));
                Avx512F.PermuteVar16x32x2(lo, EvenInts, hi).CopyTo(d.Slice(i, 16));
            }
        }
        else if (Avx512F.IsSupported && typeof(T) == typeof(double))
        {
            var s = MemoryMarshal.Cast<T, double>(src);
            var d = MemoryMarshal.Cast<T, double>(dst);
            for (; i + 8 <= d.Length && 2 * i + 16 <= s.Length; i += 8)
            {
                var lo = Vector512.Create(s.Slice(2 * i, 8));
                var hi = Vector512.Create(s.Slice(2 * i + 8, 8));
                Avx512F.PermuteVar8x64x2(lo, EvenLongs, hi).CopyTo(d.Slice(i, 8));
            }
        }
        for (; i < dst.Length; i++) dst[i] = src[2 * i];
    }
}
