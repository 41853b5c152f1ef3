namespace Backprop.Plugins.Core;

/// <summary>
/// Per-thread scratch arrays for kernels' temporaries (patch matrices, GEMM staging). Reusing them keeps large temporaries
/// off the large-object heap: a fresh 64 MB array per convolution costs page faults and zeroing that rival the GEMM.
/// Each thread keeps at most <see cref="Slots"/> arrays per element type; callers must not hold one across kernel calls.
/// </summary>
internal static class Scratch<T> where T : unmanaged
{
    /// <summary>Arrays kept per thread.</summary>
    public const int Slots = 5;

    [ThreadStatic]
    private static T[]?[]? t_arrays;

    /// <summary>An array of at least <paramref name="length"/> elements (contents undefined) for slot <paramref name="slot"/>.</summary>
    public static T[] Get(int slot, int length)
    {
        var arrays = t_arrays ??= new T[Slots][];
        var a = arrays[slot];
        if (a is null || a.Length < length) arrays[slot] = a = GC.AllocateUninitializedArray<T>(length);
        return a;
    }
}
