using System.Numerics.Tensors;
using System.Numerics;
using System.Runtime.Intrinsics;

namespace Backprop.Plugins.Core;

/// <summary>
/// The weight gradient of a 3×3 stride-1 convolution through the same transforms as <see cref="Winograd"/> (F(2×2, 3×3),
/// or F(4×4, 3×3) where the forward uses it). Each output tile is Aᵀ·(U ⊙ V)·A with U = G·g·Gᵀ and V = Bᵀ·d·B, so for
/// L = Σ ⟨dY, Y⟩ the gradient of U is (A·dYₜ·Aᵀ) ⊙ V summed over tiles, and that of g is Gᵀ·∂U·G. Per transformed
/// position ξ the sum over tiles is one GEMM, ∂U[ξ] (M × C) = E[ξ] (M × tiles) · V[ξ]ᵀ, with E = A·dYₜ·Aᵀ: α²
/// multiplications per tile and filter pair instead of 9·m². Tiles past the output's edge get dY = 0, so the partial
/// tiles of odd sizes contribute nothing extra.
/// </summary>
internal static class WinogradWeightGradient
{
    private const int Budget = 1 << 21; // elements of the V (and E) scratch per chunk of tile rows

    /// <summary>
    /// Where the forward Winograd applies (3×3, stride 1, ungrouped, enough tiles) with at least 64 channels each way: the
    /// α² products are M × C, and narrower ones lose to im2col (batch 8, per layer: ResNet18's 64–512-channel layers
    /// 12.4–12.9 against 13.1–15.9 ms with F(2×2); the benchmark CNN's 32 → 64 layer made its step 22 → 26 ms).
    /// </summary>
    public static bool Applies(ConvGeometry g) => Winograd.Applies(g) && g.C >= 64 && g.M >= 64;

    /// <summary>
    /// True where F(4×4) with <see cref="WinogradF4Rows"/>' transforms serves <paramref name="g"/> ahead of the direct
    /// kernel (<see cref="DirectWeightGradient"/>): float32 with AVX-512, outputs from 14 to 64 wide, at least 64 tiles of
    /// 4 × 4. Measured against it (batch 8, best of rounds): 56² × 64 channels 4.4–5.0 against 5.4–7.5 ms, 28² × 128 3.9
    /// against 4.8–5.0, 14² × 256 4.7 against 5.0–5.6. BACKPROP_WINOGRAD_ROWS=0 turns it off.
    /// </summary>
    public static bool Preferred<T>(ConvGeometry g) => Applies(g) && Winograd.UsesF4(g, weightGradient: true) && WinogradF4Rows.Applies<T>(g)
        && Winograd.Tiles4(g) >= 64;

    /// <summary>Writes dW (overwriting it) from the input x and the output gradient dy.</summary>
    public static void Run<T>(IGemmRouter router, IKernelProvider kernels, ConvGeometry g, Tensor x, Tensor dy, Tensor dw)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Winograd.UsesF4(g, weightGradient: true)) Run<T, WinogradF4>(router, kernels, g, x, dy, dw);
        else Run<T, WinogradF2>(router, kernels, g, x, dy, dw);
    }

    private static void Run<T, S>(IGemmRouter router, IKernelProvider kernels, ConvGeometry g, Tensor x, Tensor dy, Tensor dw)
        where T : unmanaged, IFloatingPointIeee754<T> where S : IWinogradScheme
    {
        var (th, tw) = ((g.OH + S.Out - 1) / S.Out, (g.OW + S.Out - 1) / S.Out);
        var positions = S.Alpha * S.Alpha;
        var rows = g.N * th; // tile rows of all samples; row u is tile row u mod th of sample u / th
        var parts = KernelThreads.Threads;
        var banded = parts > 1 && rows >= 2 * parts && typeof(S) == typeof(WinogradF4) && WinogradF4Rows.Applies<T>(g);
        var chunk = (int)Math.Clamp(Budget / ((long)positions * Math.Max(g.C, g.M) * tw), 1, banded ? (rows + parts - 1) / parts : rows);
        // The reduction loads whole vectors at the end of the last plane.
        var duStride = Winograd.Skew(g.M * g.C);
        var duLength = positions * duStride + Vector<T>.Count;
        var gemm = router.Select(kernels, false, true, g.M, g.C, chunk * tw, DTypeExtensions.Of<T>());
        if (banded && gemm is PackedGemm)
        {
            // Each core sums its own band of tile rows into its own ∂U, from transforms it made itself, and the sums are
            // added before the reduction: batch 8, 56² × 64 4.4 → 3.3 ms, 28² × 128 3.7 → 2.6–3.0, 14² × 256 4.5 → 4.1
            // against both cores sharing each step (ResNet18 step, alternating in six rounds: 294 → 285 ms).
            var partials = new T[parts][];
            KernelThreads.ForEachThread(part =>
            {
                var du = Scratch<T>.Get(2, duLength);
                Accumulate<T, S>(gemm, g, x, dy, du, duStride, (int)((long)rows * part / parts), (int)((long)rows * (part + 1) / parts), chunk, th, tw);
                partials[part] = du;
            });
            var total = partials[0];
            KernelThreads.ForRanges(positions * duStride, Environment.ProcessorCount, (first, last) =>
            {
                for (var p = 1; p < parts; p++)
                    TensorPrimitives.Add<T>(total.AsSpan(first, last - first), partials[p].AsSpan(first, last - first), total.AsSpan(first, last - first));
            });
            Reduce<T, S>(total, duStride, dw, g);
            return;
        }
        var sum = Scratch<T>.Get(2, duLength);
        Accumulate<T, S>(gemm, g, x, dy, sum, duStride, 0, rows, chunk, th, tw);
        Reduce<T, S>(sum, duStride, dw, g);
    }

    /// <summary>∂U[ξ] = Σ E[ξ]·V[ξ]ᵀ over tile rows [r0, r1), in chunks of <paramref name="chunk"/> tile rows (overwriting du).</summary>
    private static void Accumulate<T, S>(IGemm gemm, ConvGeometry g, Tensor x, Tensor dy, T[] du, int duStride, int r0, int r1, int chunk, int th, int tw)
        where T : unmanaged, IFloatingPointIeee754<T> where S : IWinogradScheme
    {
        var positions = S.Alpha * S.Alpha;
        for (var u0 = r0; u0 < r1; u0 += chunk)
        {
            var u1 = Math.Min(r1, u0 + chunk);
            var width = (u1 - u0) * tw;
            var (vStride, eStride) = (Winograd.Skew(g.C * width), Winograd.Skew(g.M * width));
            var v = Scratch<T>.Get(3, positions * vStride);
            var e = Scratch<T>.Get(4, positions * eStride);
            Winograd.Inputs<T, S>(x, v, g, 0, u0, u1, th, tw, width, vStride);
            if (typeof(S) == typeof(WinogradF4) && WinogradF4Rows.Applies<T>(g))
                WinogradF4Rows.Expand(dy, (float[])(object)e, g, u0, u1, th, tw, width, eStride);
            else Expand<T, S>(dy, e, g, u0, u1, th, tw, eStride);
            var beta = u0 == r0 ? T.Zero : T.One;
            // Independent products, side by side on the cores for the managed kernel (another backend threads itself);
            // nested in a core's band, in turn on that core.
            KernelThreads.For(positions, gemm is PackedGemm ? Environment.ProcessorCount : 1, xi =>
                ConvKernels.Call<T>(gemm, false, true, g.M, g.C, width, e.AsSpan(xi * eStride, g.M * width), width,
                    v.AsSpan(xi * vStride, g.C * width), width, beta, du.AsSpan(xi * duStride, g.M * g.C), g.C));
        }
    }

    /// <summary>
    /// E[ξ][k][t] = (A·dYₜ·Aᵀ)[ξ] for the m × m output-gradient tile dYₜ of every tile t in tile rows [u0, u1): each of
    /// the tile row's m output rows is copied into a zero-padded line, its tiles' columns gathered (every m-th element
    /// from column b), then the tiles are expanded a vector at a time.
    /// </summary>
    private static void Expand<T, S>(Tensor dy, T[] e, ConvGeometry g, int u0, int u1, int th, int tw, int planeStride)
        where T : unmanaged, IFloatingPointIeee754<T> where S : IWinogradScheme
    {
        var step = S.Out;
        var width = (u1 - u0) * tw;
        // Gathers of whole vectors spill into the next column's row (written after it) or the slack at the end of y.
        var lanes = Vector512<T>.Count;
        var gathered = Winograd.Gathered<T>(tw);
        KernelThreads.ForRanges(g.M, Environment.ProcessorCount, (first, last) =>
        {
            ReadOnlySpan<T> src = dy.Span<T>();
            var line = new T[step * gathered + step];
            var y = new T[step * step * tw + lanes + Vector<T>.Count]; // y[(m·a + b)·tw + t] = output (a, b) of tile t
            for (var k = first; k < last; k++)
            for (var u = u0; u < u1; u++)
            {
                var (n, ty) = (u / th, u % th);
                var plane = src.Slice((n * g.M + k) * g.P, g.P);
                for (var a = 0; a < step; a++)
                {
                    Array.Clear(line);
                    var oh = step * ty + a;
                    if (oh < g.OH) plane.Slice(oh * g.OW, g.OW).CopyTo(line);
                    for (var b = 0; b < step; b++)
                    {
                        var to = y.AsSpan((step * a + b) * tw, gathered);
                        EveryNth.Gather(step, line.AsSpan(b), to);
                    }
                }
                S.Expand(y, e, tw, k * width + (u - u0) * tw, planeStride);
            }
        });
    }

    /// <summary>dW[k, c] = Gᵀ·∂U[k, c]·G, vectorised over c, filters split across cores.</summary>
    private static void Reduce<T, S>(T[] du, int planeStride, Tensor dw, ConvGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
        where S : IWinogradScheme
    {
        var (m, c) = (g.M, g.C);
        KernelThreads.ForRanges(m, (long)m * c >= 4096 ? Environment.ProcessorCount : 1, (first, last) =>
        {
            var dst = dw.Span<T>();
            Span<Vector<T>> taps = stackalloc Vector<T>[9];
            Span<T> lanes = stackalloc T[Vector<T>.Count];
            for (var k = first; k < last; k++)
            for (var c0 = 0; c0 < c; c0 += Vector<T>.Count)
            {
                // The last step overlaps the one before when C is not a multiple of the width (C ≥ 16 ≥ the width).
                var ci = Math.Min(c0, c - Vector<T>.Count);
                S.Reduce(du, k * c + ci, planeStride, taps);
                for (var tap = 0; tap < 9; tap++)
                {
                    taps[tap].CopyTo(lanes);
                    for (var l = 0; l < lanes.Length; l++) dst[(k * c + ci + l) * 9 + tap] = lanes[l];
                }
            }
        });
    }
}
