using System.Numerics;
using System.Runtime.Intrinsics;

namespace Backprop.Plugins.Core;

/// <summary>
/// Input gradient of a strided convolution as one stride-1 convolution of dY per phase of dX. Input row ih = i·SH + a is
/// reached only by the taps kh ≡ a + PH (mod SH), kh = first + SH·t, from output row oh = i + shift − t with
/// shift = (a + PH − first) / SH; likewise for columns. So the SH·SW phases of dX are stride-1 correlations of dY with
/// disjoint subsets of the (channel-transposed) filters — for a 3×3 stride-2 layer 1×1, 1×2, 2×1 and 2×2 windows, the
/// layer's 9 taps in all — computed with the direct kernel (<see cref="MicroKernel.RunTaps512{T}"/>) from one
/// zero-padded copy of each sample's dY, and written straight into their interleaved places in dX. Through the patch
/// matrix, the GEMM wrote all 9 taps' columns and col2im added them back with strided scalar adds: ResNet18's
/// 56² → 28² layer took three times its forward's time.
/// Needs AVX-512, no dilation or groups, input channels in blocks of 8, windows at least as large as the strides (so
/// every phase has a tap and every element of dX is written). BACKPROP_PHASE_GRAD_INPUT=0 turns it off.
/// </summary>
internal static unsafe class PhaseGradInput
{
    private static readonly bool Enabled = Environment.GetEnvironmentVariable("BACKPROP_PHASE_GRAD_INPUT") != "0";

    /// <summary>
    /// The phases of one spatial axis: where phase a's taps start (<paramref name="First"/>), how many (<paramref name="Taps"/>),
    /// the output offset (<paramref name="Shift"/>) and how many input positions it holds (<paramref name="Count"/>).
    /// </summary>
    private readonly record struct AxisPhase(int First, int Taps, int Shift, int Count);

    /// <summary>
    /// Phases of both axes, the zero padding of dY's copy before its first row and column, its planes Hq × Wq, the longest
    /// phase rounded to whole runs, and the multiply-adds computed per input channel and sample.
    /// </summary>
    private sealed record Plan(AxisPhase[] Rows, AxisPhase[] Cols, int Top, int Left, int Hq, int Wq, int Positions, long Computed);

    private static (AxisPhase[] Phases, int Before, int After) Axis(int size, int outSize, int k, int s, int pad)
    {
        var phases = new AxisPhase[s];
        var (before, after) = (0, 0);
        for (var a = 0; a < s; a++)
        {
            var first = (a + pad) % s;
            var phase = new AxisPhase(first, (k - first + s - 1) / s, (a + pad - first) / s, Math.Max(0, (size - a + s - 1) / s));
            phases[a] = phase;
            before = Math.Max(before, phase.Taps - 1 - phase.Shift);
            after = Math.Max(after, phase.Count - 1 + phase.Shift - (outSize - 1));
        }
        return (phases, before, after);
    }

    private static Plan PlanOf(ConvGeometry g, int nr)
    {
        var (rows, top, bottom) = Axis(g.H, g.OH, g.KH, g.SH, g.PH);
        var (cols, left, right) = Axis(g.W, g.OW, g.KW, g.SW, g.PW);
        var (hq, wq) = (g.OH + top + bottom, g.OW + left + right);
        var positions = 0;
        var computed = 0L;
        foreach (var r in rows)
        {
            var run = (r.Count * wq + nr - 1) / nr * nr;
            positions = Math.Max(positions, run);
            foreach (var c in cols) computed += (long)run * r.Taps * c.Taps;
        }
        return new Plan(rows, cols, top, left, hq, wq, positions, computed);
    }

    /// <summary>
    /// Strided 2-D layers without dilation or groups whose input channels come in blocks of 8, windows at least as large as
    /// the strides, and little waste: at most 1.2× the multiply-adds of the layer's own taps (the padded columns and the
    /// rounding of each phase to whole runs are computed and dropped). Small planes miss that mark and are better served
    /// by the patch matrix anyway: each block of 8 channels reads all the filters for a few runs of outputs (ResNet18's
    /// 14² → 7² layer at batch 8, 1.31× the taps: 5.3–5.6 ms here against col2im's 3.8; its 56² → 28² layer, 1.06×:
    /// 4.6–5.5 against 6.5–7.5; 28² → 14², 1.14×: 4.6 against 5.0–6.6).
    /// </summary>
    public static bool Applies(ConvGeometry g)
    {
        if (!Enabled || !Vector512.IsHardwareAccelerated || g is not { SpatialRank: 2, DH: 1, DW: 1, Group: 1 }
            || g.SH * g.SW == 1 || g.KH < g.SH || g.KW < g.SW || g.C % MicroKernel.MR != 0) return false;
        var plan = PlanOf(g, 32);
        var useful = (long)g.H * g.W * g.KH * g.KW / (g.SH * g.SW);
        return plan.Computed <= 1.2 * useful && (long)(g.M + 1) * plan.Hq * plan.Wq + plan.Positions < 1 << 24;
    }

    /// <summary>Writes dX (every element) = ∂⟨dY, X ⋆ W⟩/∂X.</summary>
    public static void Run<T>(ConvGeometry g, Tensor dy, Tensor w, Tensor dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var nr = 2 * Vector512<T>.Count;
        var plan = PlanOf(g, nr);
        var (filters, taps, filterAt, tapAt) = Pack<T>(g, plan, w);
        var size = (g.M + 1) * plan.Hq * plan.Wq + plan.Positions;
        // dY as the input of a stride-1 convolution, padded as the plan says (PhasePlanes copies it with one row phase).
        var padded = new ConvGeometry(g.N, g.M, g.OH, g.OW, g.C, 1, 1, g.OH, g.OW, 1, 1, plan.Top, plan.Left, 1, 1, 1, 2);
        PhasePlanes.Run<T>(g, dy, filters, dx, taps, g.N * (g.C / MicroKernel.MR), (pdy, pw, pdx, pt, u0, u1) =>
        {
            var buffer = Scratch<T>.Get(0, size);
            var result = Scratch<T>.Get(1, MicroKernel.MR * plan.Positions);
            fixed (T* pb = buffer, pr = result)
            {
                var sample = -1;
                for (var u = u0; u < u1; u++)
                {
                    var (n, c0) = (u / (g.C / MicroKernel.MR), u % (g.C / MicroKernel.MR) * MicroKernel.MR);
                    if (n != sample)
                    {
                        PhasePlanes.Fill(padded, 1, plan.Hq, plan.Wq, new ReadOnlySpan<T>(pdy + (long)n * g.M * g.OH * g.OW, g.M * g.OH * g.OW), new Span<T>(pb, size));
                        sample = n;
                    }
                    for (var a = 0; a < g.SH; a++)
                    for (var b = 0; b < g.SW; b++)
                    {
                        var (rows, cols) = (plan.Rows[a], plan.Cols[b]);
                        if (rows.Count == 0 || cols.Count == 0) continue;
                        var kc = g.M * rows.Taps * cols.Taps;
                        var phase = a * g.SW + b;
                        var run = (rows.Count * plan.Wq + nr - 1) / nr * nr;
                        for (var p0 = 0; p0 < run; p0 += nr)
                            MicroKernel.RunTaps512(kc, pw + filterAt[phase] + (long)c0 * kc, kc, pb + p0, pt + tapAt[phase], pr + p0, plan.Positions, narrow: false);
                        Scatter(g, plan, pr, pdx, n, c0, a, b, rows.Count, cols.Count);
                    }
                }
            }
        });
    }

    /// <summary>Writes the 8 channels' results of phase (a, b) into every SH-th row and SW-th column of dX from (a, b).</summary>
    private static void Scatter<T>(ConvGeometry g, Plan plan, T* result, T* dx, int n, int c0, int a, int b, int rows, int cols) where T : unmanaged
    {
        for (var r = 0; r < MicroKernel.MR; r++)
        {
            var plane = dx + ((long)n * g.C + c0 + r) * g.H * g.W;
            for (var i = 0; i < rows; i++)
            {
                var src = result + r * plan.Positions + i * plan.Wq;
                var dst = plane + (i * g.SH + a) * g.W + b;
                if (g.SW == 1) new ReadOnlySpan<T>(src, cols).CopyTo(new Span<T>(dst, cols));
                else for (var j = 0; j < cols; j++) dst[j * g.SW] = src[j];
            }
        }
    }

    /// <summary>
    /// Each phase's filters, [C, M·taps] (element (c, (m, th, tw)) = W[m, c, first + SH·th, first′ + SW·tw]), one after
    /// another, and the offsets of their taps in dY's padded copy, in the same order.
    /// </summary>
    private static (Tensor Filters, int[] Taps, int[] FilterAt, int[] TapAt) Pack<T>(ConvGeometry g, Plan plan, Tensor w) where T : unmanaged
    {
        var (phases, total) = (g.SH * g.SW, 0);
        var (filterAt, tapAt) = (new int[phases], new int[phases]);
        for (var a = 0; a < g.SH; a++)
        for (var b = 0; b < g.SW; b++)
        {
            tapAt[a * g.SW + b] = total;
            total += g.M * plan.Rows[a].Taps * plan.Cols[b].Taps;
        }
        for (var p = 0; p < phases; p++) filterAt[p] = tapAt[p] * g.C;
        var filters = Tensor.Empty(new Shape(total * g.C), w.DType);
        var taps = new int[total];
        for (var a = 0; a < g.SH; a++)
        for (var b = 0; b < g.SW; b++)
        {
            var (rows, cols, at) = (plan.Rows[a], plan.Cols[b], tapAt[a * g.SW + b]);
            for (var m = 0; m < g.M; m++)
            for (var th = 0; th < rows.Taps; th++)
            for (var tw = 0; tw < cols.Taps; tw++)
                taps[at++] = (m * plan.Hq + rows.Shift - th + plan.Top) * plan.Wq + cols.Shift - tw + plan.Left;
        }
        // Written in order, input channels split between cores; the reads of one channel's row touch M blocks of KH·KW
        // taps, which the next channel's row reads again from cache.
        fixed (T* ps = w.Span<T>(), pd = filters.Span<T>())
        {
            var (src, dst) = ((nint)ps, (nint)pd);
            KernelThreads.ForRanges(g.C, (long)g.M * g.C >= 1 << 14 ? KernelThreads.Threads : 1, (first, last) =>
            {
                for (var c = first; c < last; c++)
                for (var a = 0; a < g.SH; a++)
                for (var b = 0; b < g.SW; b++)
                {
                    var (rows, cols, phase) = (plan.Rows[a], plan.Cols[b], a * g.SW + b);
                    var to = (T*)dst + filterAt[phase] + (long)c * g.M * rows.Taps * cols.Taps;
                    for (var m = 0; m < g.M; m++)
                    {
                        var from = (T*)src + ((long)m * g.C + c) * g.KH * g.KW;
                        for (var th = 0; th < rows.Taps; th++)
                        for (var tw = 0; tw < cols.Taps; tw++)
                            *to++ = from[(rows.First + g.SH * th) * g.KW + cols.First + g.SW * tw];
                    }
                }
            });
        }
        return (filters, taps, filterAt, tapAt);
    }
}
