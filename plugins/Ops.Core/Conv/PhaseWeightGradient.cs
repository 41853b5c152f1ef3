using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static System.Runtime.Intrinsics.Vector512;

namespace Backprop.Plugins.Core;

/// <summary>
/// The weight gradient of a convolution with few input channels (a network's stem: 3 channels, 7×7, stride 2), where
/// <see cref="DirectWeightGradient"/>'s blocks of 32 channels do not apply and the patch matrix route wrote and read
/// 147 rows of columns for every output position (59 MB a batch of 8 at 224², ~140 GFLOP/s). Each sample is copied once
/// into zero-padded, phase-split planes (<see cref="PhasePlanes"/>), where tap (c, kh, kw) over output row oh is the
/// contiguous run at a fixed offset plus oh·Wq, so dW[m, tap] = Σ over samples, output rows and columns of
/// dY[n, m, oh, ·] · planes[offset(tap) + oh·Wq + ·] — dot products along output rows, a vector of positions at a time,
/// for 4 filters × 6 taps in 24 registers, reduced across lanes at the end of each band of rows. Cores split the samples,
/// each summing into its own copy of dW. Needs output rows in whole vectors (the stem's 112 columns are 7).
/// BACKPROP_PHASE_GW=0 turns it off.
/// </summary>
internal static unsafe class PhaseWeightGradient
{
    private static readonly bool Enabled = Environment.GetEnvironmentVariable("BACKPROP_PHASE_GW") != "0";

    private const int Filters = 4, Taps = 6;

    /// <summary>Output rows per band: long enough that the cross-lane sums are a small share, short enough to stay in L2.</summary>
    private const int BandRows = 56;

    /// <summary>
    /// Ungrouped, undilated, fewer than 16 input channels (from 16 Winograd and the channels-last kernel serve), a window
    /// of 2 taps or more, filters in blocks of 4, output rows in whole 64-byte vectors (16 floats, so whole vectors of
    /// doubles too), on cores with 512-bit vectors.
    /// </summary>
    public static bool Applies(ConvGeometry g) =>
        Enabled && Vector512.IsHardwareAccelerated && g is { SpatialRank: 2, Group: 1, DH: 1, DW: 1 } && g.C < 16 && g.KH * g.KW >= 2
        && g.M % Filters == 0 && g.OW % 16 == 0
        && (long)g.C * g.SH * g.SW * (g.H + g.PH + g.PHEnd + g.SH) * (g.W + g.PW + g.PWEnd + g.SW) < 1 << 28;

    /// <summary>Writes dW (overwriting it) from the input x and the output gradient dy.</summary>
    public static void Run<T>(ConvGeometry g, Tensor x, Tensor dy, Tensor dw) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var hq = (g.H + g.PH + g.PHEnd + g.SH - 1) / g.SH;
        var wq = (g.W + g.PW + g.PWEnd + g.SW - 1) / g.SW;
        var taps = PhasePlanes.Taps(g, g.SH, hq, wq);
        var blocks = (g.Kc + Taps - 1) / Taps;
        var offsets = new int[blocks * Taps]; // the last block repeats its last tap; those sums are dropped
        for (var k = 0; k < offsets.Length; k++) offsets[k] = taps[Math.Min(k, g.Kc - 1)];
        var parts = (long)g.M * g.Kc * g.N * g.P >= 1 << 18 ? Math.Min(KernelThreads.Threads, g.N) : 1;
        var partials = new T[parts][];
        fixed (int* po = offsets)
        {
            var at = (nint)po;
            void Share(int part)
            {
                if (part >= parts) return;
                var sums = partials[part] = new T[g.M * g.Kc];
                var planes = Scratch<T>.Get(0, g.C * g.SH * g.SW * hq * wq);
                var (n0, n1) = ((int)((long)g.N * part / parts), (int)((long)g.N * (part + 1) / parts));
                for (var n = n0; n < n1; n++)
                {
                    PhasePlanes.Fill(g, g.SH, hq, wq, x.Span<T>().Slice(n * g.C * g.H * g.W, g.C * g.H * g.W), planes);
                    Sample(g, wq, planes, dy.Span<T>().Slice(n * g.M * g.P, g.M * g.P), (int*)at, blocks, sums);
                }
            }
            if (parts == 1) Share(0);
            else KernelThreads.ForEachThread(Share);
        }
        var total = dw.Span<T>();
        partials[0].CopyTo(total);
        for (var p = 1; p < parts; p++) System.Numerics.Tensors.TensorPrimitives.Add(total, partials[p], total);
    }

    /// <summary>Adds one sample's contribution to <paramref name="sums"/> ([M, Kc], dW's order).</summary>
    private static void Sample<T>(ConvGeometry g, int wq, T[] planes, ReadOnlySpan<T> dy, int* offsets, int blocks, T[] sums)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> block = stackalloc T[Filters * Taps];
        fixed (T* px = planes, pdy = dy, ps = sums)
        {
            for (var r0 = 0; r0 < g.OH; r0 += BandRows)
            {
                var rows = Math.Min(BandRows, g.OH - r0);
                for (var m0 = 0; m0 < g.M; m0 += Filters)
                for (var b = 0; b < blocks; b++)
                {
                    Dot(px + (long)r0 * wq, offsets + b * Taps, wq, pdy + (long)m0 * g.P + r0 * g.OW, g.P, g.OW, rows, block);
                    for (var f = 0; f < Filters; f++)
                    for (var t = 0; t < Taps && b * Taps + t < g.Kc; t++)
                        ps[(m0 + f) * g.Kc + b * Taps + t] += block[f * Taps + t];
                }
            }
        }
    }

    /// <summary>
    /// block[f·6 + t] = Σ over rows i and columns j of dy[f·ldDy + i·cols + j] · x[offsets[t] + i·wq + j]: 4 filters' output
    /// gradients against 6 taps' input runs, a vector of columns at a time, summed across lanes at the end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot<T>(T* x, int* offsets, int wq, T* dy, int ldDy, int cols, int rows, Span<T> block)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var w = Vector512<T>.Count;
        Vector512<T> a00 = default, a01 = default, a02 = default, a03 = default, a04 = default, a05 = default;
        Vector512<T> a10 = default, a11 = default, a12 = default, a13 = default, a14 = default, a15 = default;
        Vector512<T> a20 = default, a21 = default, a22 = default, a23 = default, a24 = default, a25 = default;
        Vector512<T> a30 = default, a31 = default, a32 = default, a33 = default, a34 = default, a35 = default;
        T* x0 = x + offsets[0], x1 = x + offsets[1], x2 = x + offsets[2], x3 = x + offsets[3], x4 = x + offsets[4], x5 = x + offsets[5];
        for (var i = 0; i < rows; i++, x0 += wq, x1 += wq, x2 += wq, x3 += wq, x4 += wq, x5 += wq)
        {
            var d = dy + (long)i * cols;
            for (var j = 0; j < cols; j += w)
            {
                var (g0, g1, g2, g3) = (Load(d + j), Load(d + ldDy + j), Load(d + 2 * ldDy + j), Load(d + 3 * ldDy + j));
                var v = Load(x0 + j);
                a00 = MicroKernel.Fma(g0, v, a00); a10 = MicroKernel.Fma(g1, v, a10); a20 = MicroKernel.Fma(g2, v, a20); a30 = MicroKernel.Fma(g3, v, a30);
                v = Load(x1 + j);
                a01 = MicroKernel.Fma(g0, v, a01); a11 = MicroKernel.Fma(g1, v, a11); a21 = MicroKernel.Fma(g2, v, a21); a31 = MicroKernel.Fma(g3, v, a31);
                v = Load(x2 + j);
                a02 = MicroKernel.Fma(g0, v, a02); a12 = MicroKernel.Fma(g1, v, a12); a22 = MicroKernel.Fma(g2, v, a22); a32 = MicroKernel.Fma(g3, v, a32);
                v = Load(x3 + j);
                a03 = MicroKernel.Fma(g0, v, a03); a13 = MicroKernel.Fma(g1, v, a13); a23 = MicroKernel.Fma(g2, v, a23); a33 = MicroKernel.Fma(g3, v, a33);
                v = Load(x4 + j);
                a04 = MicroKernel.Fma(g0, v, a04); a14 = MicroKernel.Fma(g1, v, a14); a24 = MicroKernel.Fma(g2, v, a24); a34 = MicroKernel.Fma(g3, v, a34);
                v = Load(x5 + j);
                a05 = MicroKernel.Fma(g0, v, a05); a15 = MicroKernel.Fma(g1, v, a15); a25 = MicroKernel.Fma(g2, v, a25); a35 = MicroKernel.Fma(g3, v, a35);
            }
        }
        block[0] = Sum(a00); block[1] = Sum(a01); block[2] = Sum(a02); block[3] = Sum(a03); block[4] = Sum(a04); block[5] = Sum(a05);
        block[6] = Sum(a10); block[7] = Sum(a11); block[8] = Sum(a12); block[9] = Sum(a13); block[10] = Sum(a14); block[11] = Sum(a15);
        block[12] = Sum(a20); block[13] = Sum(a21); block[14] = Sum(a22); block[15] = Sum(a23); block[16] = Sum(a24); block[17] = Sum(a25);
        block[18] = Sum(a30); block[19] = Sum(a31); block[20] = Sum(a32); block[21] = Sum(a33); block[22] = Sum(a34); block[23] = Sum(a35);
    }
}
