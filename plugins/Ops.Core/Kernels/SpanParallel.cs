namespace Backprop.Plugins.Core;

/// <summary>A map from one span to another of the same length.</summary>
internal delegate void SpanMap<T>(ReadOnlySpan<T> x, Span<T> y);

/// <summary>A map from two spans to a third, all of the same length.</summary>
internal delegate void SpanMap2<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> g, Span<T> y);

/// <summary>
/// Splits elementwise kernels over large tensors across the kernel threads in contiguous shares, one per thread
/// (<see cref="KernelThreads.ForRanges"/>); small ones stay on the caller.
/// </summary>
internal static unsafe class SpanParallel
{
    /// <summary>Elements per piece; below two pieces the map runs inline.</summary>
    public const int Piece = 1 << 16;

    public static void Map<T>(ReadOnlySpan<T> x, Span<T> y, SpanMap<T> map) where T : unmanaged
    {
        if (x.Length < 2 * Piece)
        {
            map(x, y);
            return;
        }
        fixed (T* px = x, py = y)
        {
            var (ax, ay, n) = ((IntPtr)px, (IntPtr)py, x.Length);
            KernelThreads.ForRanges((n + Piece - 1) / Piece, KernelThreads.Threads, (first, last) =>
            {
                var start = first * Piece;
                var length = Math.Min(last * Piece, n) - start;
                map(new ReadOnlySpan<T>((T*)ax + start, length), new Span<T>((T*)ay + start, length));
            });
        }
    }

    /// <summary>As <see cref="Map{T}"/>, for a map that reads two spans.</summary>
    public static void Map2<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> g, Span<T> y, SpanMap2<T> map) where T : unmanaged
    {
        if (x.Length < 2 * Piece)
        {
            map(x, g, y);
            return;
        }
        fixed (T* px = x, pg = g, py = y)
        {
            var (ax, ag, ay, n) = ((IntPtr)px, (IntPtr)pg, (IntPtr)py, x.Length);
            KernelThreads.ForRanges((n + Piece - 1) / Piece, KernelThreads.Threads, (first, last) =>
            {
                var start = first * Piece;
                var length = Math.Min(last * Piece, n) - start;
                map(new ReadOnlySpan<T>((T*)ax + start, length), new ReadOnlySpan<T>((T*)ag + start, length), new Span<T>((T*)ay + start, length));
            });
        }
    }
}
