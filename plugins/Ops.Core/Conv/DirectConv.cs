using System.Numerics;
using System.Runtime.Intrinsics;

namespace Backprop.Plugins.Core;

/// <summary>
/// Direct convolution for layers with few input channels and a large window, such as ResNet's 7×7 stride-2 stem (C = 3,
/// Kc = 147). Through im2col such a layer writes and re-reads a patch matrix ~37 times the size of its input, then packs it
/// again, for a product whose K is too short to pay for either. Here each sample is copied once into a zero-padded,
/// phase-split layout — column p of the padded image goes to phase p mod SW at position p / SW — in which one filter tap
/// over a run of output pixels of one row is a contiguous vector. A register-blocked kernel
/// (<see cref="MicroKernel.RunTaps512{T}"/>) multiplies 8 filters, read in place, by 32 (or 16) pixels whose taps it finds
/// through a table of offsets. Each core takes its own band of output rows. BACKPROP_DIRECT_CONV=0 turns it off.
/// </summary>
internal static unsafe class DirectConv
{
    private static readonly bool Enabled = Environment.GetEnvironmentVariable("BACKPROP_DIRECT_CONV") != "0";

    /// <summary>The padded, phase-split copy of one sample (<see cref="PhasePlanes"/> without row phases): C·SW planes of Hp rows of Wq elements.</summary>
    private readonly record struct Layout(int Hp, int Wq, int Size);

    private static Layout LayoutOf(ConvGeometry g, int nr)
    {
        var hp = g.H + g.PH + g.PHEnd;
        // Wide enough for the data and for the last run of pixels of a row, which reads up to a whole vector pair past OW.
        var wq = Math.Max((g.W + g.PW + g.PWEnd + g.SW - 1) / g.SW, (g.OW + nr - 1) / nr * nr + (g.KW - 1) / g.SW) + 1;
        return new Layout(hp, wq, g.C * g.SW * hp * wq);
    }

    /// <summary>Few input channels, a window of at least 9 taps, stride ≤ 2 across, no dilation or groups, filters in blocks of 8.</summary>
    public static bool Applies(ConvGeometry g) =>
        Enabled && Vector512.IsHardwareAccelerated && g.Group == 1 && g.DH == 1 && g.DW == 1 && g.SW <= 2
        && g.KH * g.KW >= 9 && g.C <= 16 && g.M % MicroKernel.MR == 0 && g.OW >= 16
        && (long)g.C * g.SW * (g.H + g.PH + g.PHEnd) * (g.OW + g.W + g.PW + g.PWEnd + 64) < 1 << 26;

    public static void Forward<T>(ConvGeometry g, Tensor x, Tensor w, Tensor y, ConvEpilogue? epilogue) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var layout = LayoutOf(g, 2 * Vector512<T>.Count);
        var taps = PhasePlanes.Taps(g, 1, layout.Hp, layout.Wq);
        PhasePlanes.Run<T>(g, x, w, y, taps, g.N * g.OH, (px, pw, py, pt, u0, u1) => Band(g, layout, px, pw, py, pt, epilogue, u0, u1));
    }

    /// <summary>Output rows [u0, u1) over all samples (row u is output row u mod OH of sample u / OH), all filters.</summary>
    private static void Band<T>(ConvGeometry g, Layout layout, T* x, T* w, T* y, int* taps, ConvEpilogue? epilogue, int u0, int u1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int mr = MicroKernel.MR;
        var nr = 2 * Vector512<T>.Count;
        var buffer = Scratch<T>.Get(0, layout.Size);
        var tile = stackalloc T[mr * nr];
        fixed (T* pb = buffer)
        {
            var sample = -1;
            for (var u = u0; u < u1; u++)
            {
                var (n, oh) = (u / g.OH, u % g.OH);
                if (n != sample)
                {
                    PhasePlanes.Fill(g, 1, layout.Hp, layout.Wq, new ReadOnlySpan<T>(x + (long)n * g.C * g.H * g.W, g.C * g.H * g.W), new Span<T>(pb, layout.Size));
                    sample = n;
                }
                var row = pb + (long)oh * g.SH * layout.Wq;
                for (var ow0 = 0; ow0 < g.OW; ow0 += nr)
                {
                    var valid = Math.Min(nr, g.OW - ow0);
                    for (var m0 = 0; m0 < g.M; m0 += mr)
                    {
                        var offset = (((long)n * g.M + m0) * g.OH + oh) * g.OW + ow0;
                        if (valid == nr)
                        {
                            MicroKernel.RunTaps512(g.Kc, w + (long)m0 * g.Kc, g.Kc, row + ow0, taps, y + offset, g.P, narrow: false);
                            continue;
                        }
                        MicroKernel.RunTaps512(g.Kc, w + (long)m0 * g.Kc, g.Kc, row + ow0, taps, tile, nr, narrow: valid <= nr / 2);
                        for (var r = 0; r < mr; r++)
                            new ReadOnlySpan<T>(tile + r * nr, valid).CopyTo(new Span<T>(y + offset + (long)r * g.P, valid));
                    }
                }
                if (epilogue is null) continue;
                // The epilogue once per finished output row of each filter, still in cache (once per 32-column tile, its
                // per-call cost took the stem at batch 1 from 1.0 to 4.0 ms).
                for (var m = 0; m < g.M; m++)
                {
                    var at = (((long)n * g.M + m) * g.OH + oh) * g.OW;
                    var line = new Span<T>(y + at, g.OW);
                    epilogue.Apply<T>(line, line, m, (int)at);
                }
            }
        }
    }
}
