using System.Numerics;
using System.Runtime.Intrinsics;

namespace Backprop.Plugins.Core;

/// <summary>
/// Direct convolution of output planes up to 64 × 64 (all of ResNet's 3×3 layers, strided or not). Through im2col a
/// small layer copies its patch matrix in pieces one output row long (7 or 14 elements), which cost a quarter of the
/// layer; Winograd's batched products on a few dozen tiles are no better, and on cores with full-width 512-bit FMAs
/// this kernel, at ~85 % of their peak, is as fast as Winograd on larger planes too (batch 8, per 3×3 layer, best of
/// five alternating rounds: 56² × 64 channels 5.6 against 6.5 ms, 28² × 128 5.7 against 5.7, 14² × 256 5.6 against
/// 6.6) — with the plain convolution's rounding instead of Winograd's. Here each sample is copied once into zero-padded,
/// phase-split planes — padded element (i, j) of channel c goes to phase (i mod SH, j mod SW) at (i / SH, j / SW), each
/// phase plane Hq × Wq — and the output is computed on the phase width: output position p = oh·Wq + ow reads tap
/// (c, kh, kw) at plane(c, kh mod SH, kw mod SW) + (kh / SH)·Wq + kw / SW + p, so a run of consecutive positions — across
/// output rows — is one contiguous vector and the product needs no patch matrix at all
/// (<see cref="MicroKernel.RunTaps512{T}"/>, 8 filters read in place × 32 positions). The columns ow ≥ OW are computed
/// and dropped; the layer is chosen only where that waste stays small next to im2col's own rounding to whole panels.
/// Cores split the (sample, block of 8 filters) pairs.
/// BACKPROP_FLAT_CONV=0 turns it off.
/// </summary>
internal static unsafe class FlatConv
{
    private static readonly bool Enabled = Environment.GetEnvironmentVariable("BACKPROP_FLAT_CONV") != "0";

    /// <summary>
    /// Largest output plane served (ResNet's 56² layers and smaller): above it rows are long, im2col copies them quickly,
    /// and the few-channel kernel (<see cref="DirectConv"/>) runs the 112² stem as fast (batch 8: 5.9 ms there, 6.1 here).
    /// </summary>
    private const int MaxPlane = 4096;

    /// <summary>
    /// How many more columns than im2col's (rounded to whole panels) may be computed. The patch matrix costs a fifth of a
    /// 7×7 layer (batch 1–8) and far more on small planes with few channels, where im2col ran at 40–90 GFLOP/s: the
    /// benchmark CNN's 32 → 64 layer, 13² → 11² at batch 64 (1.32× the columns), forward 2.4 → 1.2 ms and its input
    /// gradient (11² → 13², 1.33×) 5.8 → 1.8 ms on this kernel, alternating in one process.
    /// </summary>
    private const double Slack = 1.5;

    /// <summary>Phase planes of Hq × Wq per channel (SH·SW of them), positions computed per sample, elements per sample.</summary>
    private readonly record struct Layout(int Hq, int Wq, int Positions, int Size);

    private static Layout LayoutOf(ConvGeometry g, int nr)
    {
        var hq = (g.H + g.PH + g.PHEnd + g.SH - 1) / g.SH;
        var wq = (g.W + g.PW + g.PWEnd + g.SW - 1) / g.SW;
        var positions = (g.OH * wq + nr - 1) / nr * nr;
        // The last run reads up to `positions` past the farthest tap of the last plane.
        var size = g.C * g.SH * g.SW * hq * wq + ((g.KH - 1) / g.SH + 1) * wq + positions;
        return new Layout(hq, wq, positions, size);
    }

    /// <summary>
    /// No dilation or groups, filters in blocks of 8, a small output plane, a window of 2 taps or more (a 1×1 layer's patch
    /// matrix is its input, or a cheap strided pick of it), little waste. Without AVX-512 Winograd and im2col serve.
    /// </summary>
    public static bool Applies(ConvGeometry g)
    {
        if (!Enabled || !Vector512.IsHardwareAccelerated || g is not { SpatialRank: 2, DH: 1, DW: 1, Group: 1 }
            || g.M % MicroKernel.MR != 0 || g.P > MaxPlane || g.KH * g.KW < 2) return false;
        const int nr = 32;
        var layout = LayoutOf(g, nr);
        var im2col = ((long)g.N * g.P + nr - 1) / nr * nr;
        return g.N * layout.Positions <= im2col * Slack && (long)g.C * g.SH * g.SW * layout.Hq * layout.Wq < 1 << 24;
    }

    public static void Forward<T>(ConvGeometry g, Tensor x, Tensor w, Tensor y, ConvEpilogue? epilogue) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var layout = LayoutOf(g, 2 * Vector512<T>.Count);
        var taps = PhasePlanes.Taps(g, g.SH, layout.Hq, layout.Wq);
        PhasePlanes.Run<T>(g, x, w, y, taps, g.N * (g.M / MicroKernel.MR), (px, pw, py, pt, u0, u1) => Units(g, layout, px, pw, py, pt, epilogue, u0, u1));
    }

    /// <summary>Units [u0, u1): unit u is filter block u mod (M/8) of sample u / (M/8), all positions.</summary>
    private static void Units<T>(ConvGeometry g, Layout layout, T* x, T* w, T* y, int* taps, ConvEpilogue? epilogue, int u0, int u1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int mr = MicroKernel.MR;
        var nr = 2 * Vector512<T>.Count;
        var blocks = g.M / mr;
        var buffer = Scratch<T>.Get(0, layout.Size);
        var rows = Scratch<T>.Get(1, mr * layout.Positions);
        fixed (T* pb = buffer, pr = rows)
        {
            var sample = -1;
            for (var u = u0; u < u1; u++)
            {
                var (n, m0) = (u / blocks, u % blocks * mr);
                if (n != sample)
                {
                    PhasePlanes.Fill(g, g.SH, layout.Hq, layout.Wq, new ReadOnlySpan<T>(x + (long)n * g.C * g.H * g.W, g.C * g.H * g.W), new Span<T>(pb, layout.Size));
                    sample = n;
                }
                for (var p0 = 0; p0 < layout.Positions; p0 += nr)
                    MicroKernel.RunTaps512(g.Kc, w + (long)m0 * g.Kc, g.Kc, pb + p0, taps, pr + p0, layout.Positions, narrow: false);
                for (var r = 0; r < mr; r++)
                {
                    var plane = ((long)n * g.M + m0 + r) * g.P;
                    for (var oh = 0; oh < g.OH; oh++)
                    {
                        var src = new ReadOnlySpan<T>(pr + r * layout.Positions + oh * layout.Wq, g.OW);
                        var at = plane + oh * g.OW;
                        var dst = new Span<T>(y + at, g.OW);
                        if (epilogue is null) src.CopyTo(dst);
                        else epilogue.Apply(src, dst, m0 + r, (int)at);
                    }
                }
            }
        }
    }
}
