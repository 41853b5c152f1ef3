using System.Numerics;

namespace Backprop.Plugins.Core;

/// <summary>
/// The weight gradient of a 3×3 stride-1 convolution through the same F(2×2, 3×3) transforms as <see cref="Winograd"/>.
/// Each output tile is Aᵀ·(U ⊙ V)·A with U = G·g·Gᵀ and V = Bᵀ·d·B, so for L = Σ ⟨dY, Y⟩ the gradient of U is
/// (A·dYₜ·Aᵀ) ⊙ V summed over tiles, and that of g is Gᵀ·∂U·G. Per transformed position ξ the sum over tiles is one GEMM,
/// ∂U[ξ] (M × C) = E[ξ] (M × tiles) · V[ξ]ᵀ, with E = A·dYₜ·Aᵀ: 16 multiplications per tile and filter pair instead of
/// 36. Tiles past the output's edge get dY = 0, so the partial tiles of odd sizes contribute nothing extra.
/// </summary>
internal static class WinogradWeightGradient
{
    private const int Budget = 1 << 21; // elements of the V (and E) scratch per chunk of tile rows

    /// <summary>
    /// Where the forward Winograd applies (3×3, stride 1, ungrouped, enough tiles) with at least 64 channels each way: the
    /// 16 products are M × C, and narrower ones lose to im2col (batch 8, per layer: ResNet18's 64–512-channel layers
    /// 12.4–12.9 against 13.1–15.9 ms; the benchmark CNN's 32 → 64 layer made its step 22 → 26 ms).
    /// </summary>
    public static bool Applies(ConvGeometry g) => Winograd.Applies(g) && g.C >= 64 && g.M >= 64;

    /// <summary>Writes dW (overwriting it) from the input x and the output gradient dy.</summary>
    public static void Run<T>(IGemmRouter router, IKernelProvider kernels, ConvGeometry g, Tensor x, Tensor dy, Tensor dw)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (th, tw) = ((g.OH + 1) / 2, (g.OW + 1) / 2);
        var rows = g.N * th; // tile rows of all samples; row u is tile row u mod th of sample u / th
        var chunk = (int)Math.Clamp(Budget / (16L * Math.Max(g.C, g.M) * tw), 1, rows);
        var du = Scratch<T>.Get(2, 16 * g.M * g.C);
        var gemm = router.Select(kernels, false, true, g.M, g.C, chunk * tw, DTypeExtensions.Of<T>());
        for (var u0 = 0; u0 < rows; u0 += chunk)
        {
            var u1 = Math.Min(rows, u0 + chunk);
            var width = (u1 - u0) * tw;
            var v = Scratch<T>.Get(3, 16 * g.C * width);
            var e = Scratch<T>.Get(4, 16 * g.M * width);
            Winograd.Inputs<T, WinogradF2>(x, v, g, 0, u0, u1, th, tw);
            Expand(dy, e, g, u0, u1, th, tw);
            var beta = u0 == 0 ? T.Zero : T.One;
            // Sixteen independent products, side by side on the cores for the managed kernel (another backend threads itself).
            KernelThreads.For(16, gemm is PackedGemm ? Environment.ProcessorCount : 1, xi =>
                ConvKernels.Call<T>(gemm, false, true, g.M, g.C, width, e.AsSpan(xi * g.M * width, g.M * width), width,
                    v.AsSpan(xi * g.C * width, g.C * width), width, beta, du.AsSpan(xi * g.M * g.C, g.M * g.C), g.C));
        }
        Reduce(du, dw, g);
    }

    /// <summary>E[ξ][k][t] = (A·dYₜ·Aᵀ)[ξ] for the 2×2 output-gradient tile dYₜ of every tile t in tile rows [u0, u1), vectorised over tiles.</summary>
    private static void Expand<T>(Tensor dy, T[] e, ConvGeometry g, int u0, int u1, int th, int tw) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var width = (u1 - u0) * tw;
        var planeStride = g.M * width;
        KernelThreads.ForRanges(g.M, Environment.ProcessorCount, (first, last) =>
        {
            ReadOnlySpan<T> src = dy.Span<T>();
            var line = new T[2 * tw + 1];
            var half = new T[4 * tw]; // even and odd columns of the tile row's two output rows: e0, o0, e1, o1
            for (var k = first; k < last; k++)
            for (var u = u0; u < u1; u++)
            {
                var (n, ty) = (u / th, u % th);
                var plane = src.Slice((n * g.M + k) * g.P, g.P);
                for (var a = 0; a < 2; a++)
                {
                    Array.Clear(line);
                    var oh = 2 * ty + a;
                    if (oh < g.OH) plane.Slice(oh * g.OW, g.OW).CopyTo(line);
                    EveryOther.Gather(line, half.AsSpan(2 * a * tw, tw));
                    EveryOther.Gather(line.AsSpan(1), half.AsSpan((2 * a + 1) * tw, tw));
                }
                Tiles(half, e, tw, k * width + (u - u0) * tw, planeStride);
            }
        });
    }

    /// <summary>The 16 values of A·y·Aᵀ for a row of tiles, A = [1 0; 1 1; 1 −1; 0 −1], from the gathered columns.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Tiles<T>(T[] half, T[] e, int tw, int offset, int planeStride) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var step = Vector<T>.Count;
        var tx = 0;
        for (; tx + step <= tw; tx += step)
        {
            var (e0, o0, e1, o1) = (Load(half, tx), Load(half, tw + tx), Load(half, 2 * tw + tx), Load(half, 3 * tw + tx));
            // Columns first: r_a = (y_a0, y_a0 + y_a1, y_a0 − y_a1, −y_a1); then rows the same way.
            Span<Vector<T>> r0 = [e0, e0 + o0, e0 - o0, -o0];
            Span<Vector<T>> r1 = [e1, e1 + o1, e1 - o1, -o1];
            for (var j = 0; j < 4; j++)
            {
                r0[j].CopyTo(e, j * planeStride + offset + tx);
                (r0[j] + r1[j]).CopyTo(e, (4 + j) * planeStride + offset + tx);
                (r0[j] - r1[j]).CopyTo(e, (8 + j) * planeStride + offset + tx);
                (-r1[j]).CopyTo(e, (12 + j) * planeStride + offset + tx);
            }
        }
        for (; tx < tw; tx++)
        {
            var (e0, o0, e1, o1) = (half[tx], half[tw + tx], half[2 * tw + tx], half[3 * tw + tx]);
            Span<T> r0 = [e0, e0 + o0, e0 - o0, -o0];
            Span<T> r1 = [e1, e1 + o1, e1 - o1, -o1];
            for (var j = 0; j < 4; j++)
            {
                e[j * planeStride + offset + tx] = r0[j];
                e[(4 + j) * planeStride + offset + tx] = r0[j] + r1[j];
                e[(8 + j) * planeStride + offset + tx] = r0[j] - r1[j];
                e[(12 + j) * planeStride + offset + tx] = -r1[j];
            }
        }
    }

    /// <summary>dW[k, c] = Gᵀ·∂U[k, c]·G with Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1], vectorised over c, filters split across cores.</summary>
    private static void Reduce<T>(T[] du, Tensor dw, ConvGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var planeStride = g.M * g.C;
        var (m, c) = (g.M, g.C);
        KernelThreads.ForRanges(m, (long)m * c >= 4096 ? Environment.ProcessorCount : 1, (first, last) =>
        {
            var dst = dw.Span<T>();
            var half = new Vector<T>(T.CreateTruncating(0.5));
            Span<Vector<T>> x = stackalloc Vector<T>[16];
            Span<Vector<T>> t = stackalloc Vector<T>[12];
            Span<T> lanes = stackalloc T[Vector<T>.Count];
            for (var k = first; k < last; k++)
            for (var c0 = 0; c0 < c; c0 += Vector<T>.Count)
            {
                // The last step overlaps the one before when C is not a multiple of the width (C ≥ 16 ≥ the width).
                var ci = Math.Min(c0, c - Vector<T>.Count);
                for (var xi = 0; xi < 16; xi++) x[xi] = Load(du, xi * planeStride + k * c + ci);
                for (var j = 0; j < 4; j++)
                {
                    var (a, b, d, f) = (x[j], x[4 + j], x[8 + j], x[12 + j]);
                    (t[j], t[4 + j], t[8 + j]) = (a + half * (b + d), half * (b - d), half * (b + d) + f);
                }
                for (var p = 0; p < 3; p++)
                {
                    var (a, b, d, f) = (t[4 * p], t[4 * p + 1], t[4 * p + 2], t[4 * p + 3]);
                    Span<Vector<T>> row = [a + half * (b + d), half * (b - d), half * (b + d) + f];
                    for (var q = 0; q < 3; q++)
                    {
                        row[q].CopyTo(lanes);
                        for (var l = 0; l < lanes.Length; l++) dst[((k * c + ci + l) * 3 + p) * 3 + q] = lanes[l];
                    }
                }
            }
        });
    }

    private static Vector<T> Load<T>(T[] a, int at) where T : unmanaged => new(a.AsSpan(at, Vector<T>.Count));
}
