using System.Numerics;
using System.Runtime.CompilerServices;

namespace Backprop.Plugins.Core;

/// <summary>
/// One of Winograd's minimal filtering algorithms F(m×m, 3×3) (Lavin and Gray, 2016): an output tile of m × m from an
/// input tile of α × α, α = m + 2, through V = Bᵀ·d·B, U = G·g·Gᵀ and Y = Aᵀ·(U ⊙ V)·A, with α² multiplications per
/// output tile and channel pair instead of 9·m². <see cref="Winograd"/> owns the loops, the layout and the products; a
/// scheme owns its transforms, written out by hand over SIMD vectors (a generic α × α version through spans of vectors
/// ran F(2×2) up to 20 % slower). Each kernel below works on a run of lanes (tiles or channels) at a time.
/// </summary>
internal interface IWinogradScheme
{
    /// <summary>m: outputs per tile side, also the step between tiles.</summary>
    static abstract int Out { get; }

    /// <summary>α = m + 2: inputs per tile side and transformed positions per side (α² planes, ξ = row·α + column).</summary>
    static abstract int Alpha { get; }

    /// <summary>
    /// u[ξ·planeStride + offset + c] = (G·g·Gᵀ)[ξ] for the filters of one output channel, from their taps gathered as
    /// taps[tap·channels + c] (channels ≥ the vector width).
    /// </summary>
    static abstract void Filters<T>(T[] taps, T[] u, int channels, int offset, int planeStride) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// v[ξ·planeStride + offset + t] = (Bᵀ·d·B)[ξ] for <paramref name="count"/> tiles t whose inputs were gathered as
    /// e[(row·α + column)·blockStride + t] (readable a vector past the last tile).
    /// </summary>
    static abstract void Inputs<T>(T[] e, int blockStride, T[] v, int count, int offset, int planeStride) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// rows[(m·a + b)·count + t] = (Aᵀ·M·A)[a, b] for <paramref name="count"/> tiles t, from the products
    /// M[ξ] at m[ξ·planeStride + offset + t] (readable a vector past the last tile).
    /// </summary>
    static abstract void Outputs<T>(T[] m, T[] rows, int count, int offset, int planeStride) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// For the weight gradient: e[ξ·planeStride + offset + t] = (A·y·Aᵀ)[ξ] for <paramref name="count"/> output-gradient
    /// tiles t gathered as y[(m·a + b)·count + t] (readable a vector past the last tile).
    /// </summary>
    static abstract void Expand<T>(T[] y, T[] e, int count, int offset, int planeStride) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// For the weight gradient: taps[3p + q] = (Gᵀ·∂U·G)[p, q] for a vector of filters whose transformed gradient is
    /// ∂U[ξ] = du[ξ·planeStride + at …].
    /// </summary>
    static abstract void Reduce<T>(T[] du, int at, int planeStride, Span<Vector<T>> taps) where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>Vector loads and partial stores shared by the schemes.</summary>
internal static class WinogradLanes
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Load<T>(T[] a, int at) where T : unmanaged => new(a.AsSpan(at, Vector<T>.Count));

    /// <summary>The first <paramref name="live"/> lanes of <paramref name="value"/> to a[at …], through <paramref name="lanes"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<T>(Vector<T> value, T[] a, int at, int live, Span<T> lanes) where T : unmanaged
    {
        if (live == Vector<T>.Count)
        {
            value.CopyTo(a, at);
            return;
        }
        value.CopyTo(lanes);
        lanes[..live].CopyTo(a.AsSpan(at, live));
    }
}
