using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static System.Runtime.Intrinsics.Vector512;

namespace Backprop.Plugins.Core;

/// <summary>
/// The weight gradient of an ungrouped convolution read in place, without a patch matrix or transforms:
/// dW[m, c, kh, kw] = Σ over samples and output positions of dY[n, m, oh, ow] · Xpad[n, c, oh·SH + kh·DH, ow·SW + kw·DW].
/// The input is copied once into a zero-padded channels-last layout, so for one tap the 2·(vector width) channels of a block
/// at one output position are two contiguous vectors, and dY once into blocks of 8 filters interleaved by position, so the
/// 8 values that multiply them are one broadcast each. The register block (<see cref="Accumulate{T}"/>) is 8 filters ×
/// 32 channels (float) of one tap, summed over a chunk of output rows in registers — the shape of the forward's direct
/// kernel, and like it reading both operands in place. Between chunks of output rows the sums wait in a tap-major copy of
/// dW; the last chunk's go through a small block, 8 × 8 register transposes, into dW's order. Cores split the filters,
/// each packing its own share of dY. Batch 8, per layer, against Winograd's weight gradient (F(2×2) at 7², F(4×4) above)
/// in one process: 7² × 512 5.9–6.4 against 9.1 ms, 56² × 64 6.3–6.7 against 9.1, 28² × 128 5.9–6.2 against 6.7,
/// 14² × 256 6.2–7.1 against 7.0 — 250–310 GFLOP/s on two cores.
/// BACKPROP_DIRECT_GW=0 turns it off.
/// </summary>
internal static unsafe class DirectWeightGradient
{
    private static readonly bool Enabled = Environment.GetEnvironmentVariable("BACKPROP_DIRECT_GW") != "0";

    /// <summary>
    /// Bytes of one channel block's input (32 float or 16 double channels, 128 bytes a position) that a chunk of output rows
    /// reads. The sums of a chunk stay in registers and go back to memory between chunks (a 512-channel layer's partial
    /// sums are 9 MB), so chunks should be long; but every filter block and tap reads the chunk's input again, which must
    /// stay in L2. This budget gives ~1,000 output positions a chunk on ResNet's stride-1 layers (where 256, 1,024 and
    /// 2,048 positions measured the same at 56², 28² and 14², and 256 lost at 7²) and ~220 on its stride-2 layers, whose
    /// chunks read four input positions for each output and ran best at 128–256 positions: batch 8, in one process against
    /// the forward of the same layer, 28² → 14² × 128 → 256 channels 1.2–1.3× the forward's time at 1,024 positions,
    /// 0.8–0.9× at 128–256; 14² → 7² × 256 → 512 1.2× at 1,024, 1.0–1.1× at 128.
    /// </summary>
    private const int ChunkInputBytes = 128 << 10;

    private const int MR = 8;

    /// <summary>
    /// Ungrouped, filters in blocks of 8, channels in blocks of 32, on cores with 512-bit vectors, the channels-last copy
    /// of the batch addressable by an int, a window of 2 taps or more. A 1×1 layer's weight gradient is one GEMM of dY
    /// with X itself (or its strided pick), which costs less than this kernel's channels-last copy of the whole input:
    /// batch 8, alternating, ResNet18's 1×1 stride-2 shortcuts 1.1–1.4 → 0.6–0.8 ms, 7² × 512 → 512 1.8–1.9 → 1.3–1.4 ms,
    /// 56² × 64 → 256 and 14² × 256 → 1024 even.
    /// </summary>
    public static bool Applies(ConvGeometry g) =>
        Enabled && Vector512.IsHardwareAccelerated && g.Group == 1 && g.KH * g.KW > 1 && g.M % MR == 0 && g.C % 32 == 0
        && (long)g.N * (g.H + g.PH + g.PHEnd) * (g.W + g.PW + g.PWEnd) * g.C < int.MaxValue;

    /// <summary>Writes dW (overwriting it) from the input x and the output gradient dy.</summary>
    public static void Run<T>(ConvGeometry g, Tensor x, Tensor dy, Tensor dw) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (hp, wp) = (g.H + g.PH + g.PHEnd, g.W + g.PW + g.PWEnd);
        var image = (long)hp * wp * g.C;
        var rows = g.N * g.OH;
        var taps = g.KH * g.KW;
        var xt = Scratch<T>.Get(3, (int)(g.N * image));
        // Output rows whose input rows, (chunk − 1)·SH + (KH − 1)·DH + 1 of them, fit the budget.
        var inputRows = ChunkInputBytes / (wp * 2 * Vector512<T>.Count * Unsafe.SizeOf<T>());
        var chunk = Math.Clamp((inputRows - (g.KH - 1) * g.DH - 1) / g.SH + 1, 1, rows);
        var dwt = chunk < rows ? Scratch<T>.Get(2, taps * g.M * g.C) : [];
        var rowX = new nint[rows];
        for (var u = 0; u < rows; u++) rowX[u] = (nint)((u / g.OH * image) + ((long)(u % g.OH) * g.SH * wp * g.C));
        var tapX = new nint[taps];
        for (var kh = 0; kh < g.KH; kh++)
        for (var kw = 0; kw < g.KW; kw++)
            tapX[kh * g.KW + kw] = ((nint)kh * g.DH * wp + kw * g.DW) * g.C;
        var blocks = g.M / MR;
        var parts = (long)g.M * g.Kc * g.N * g.P >= 1 << 18 ? Math.Min(KernelThreads.Threads, blocks) : 1;
        fixed (T* px = x.Span<T>(), pdy = dy.Span<T>(), pdw = dw.Span<T>(), pxt = xt, pdwt = dwt)
        fixed (nint* prow = rowX, ptap = tapX)
        {
            var (ax, ady, adw, axt, adwt, arow, atap) = ((nint)px, (nint)pdy, (nint)pdw, (nint)pxt, (nint)pdwt, (nint)prow, (nint)ptap);
            KernelThreads.For(g.N, parts, n => ChannelsLast(g, hp, wp, g.C, (T*)ax + (long)n * g.C * g.H * g.W, (T*)axt + n * image));
            void Share(int part)
            {
                if (part >= parts) return;
                var (b0, b1) = ((int)((long)blocks * part / parts), (int)((long)blocks * (part + 1) / parts));
                Filters(g, (T*)axt, (T*)ady, (T*)adw, (T*)adwt, (nint*)arow, (nint*)atap, chunk, b0, b1);
            }
            if (parts == 1) Share(0);
            else KernelThreads.ForEachThread(Share);
        }
    }

    /// <summary>One core's share: filter blocks [b0, b1) over all channels, taps and output rows.</summary>
    private static void Filters<T>(ConvGeometry g, T* xt, T* dy, T* dw, T* dwt, nint* rowX, nint* tapX, int chunk, int b0, int b1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (mine, positions, rows) = (b1 - b0, g.N * g.P, g.N * g.OH);
        if (mine <= 0) return;
        var packed = Scratch<T>.Get(4, mine * MR * positions);
        var cb = 2 * Vector512<T>.Count;
        var taps = g.KH * g.KW;
        var xStep = (nint)g.SW * g.C;
        var local = Scratch<T>.Get(1, 2 * taps * MR * cb);
        fixed (T* pp = packed, pl = local)
        {
            for (var b = 0; b < mine; b++)
            for (var n = 0; n < g.N; n++)
                Interleave(dy + ((long)n * g.M + (b0 + b) * MR) * g.P, g.P, pp + ((long)b * positions + (long)n * g.P) * MR);
            for (var u0 = 0; u0 < rows; u0 += chunk)
            {
                var u1 = Math.Min(rows, u0 + chunk);
                var last = u1 == rows;
                for (var c0 = 0; c0 < g.C; c0 += cb)
                for (var b = 0; b < mine; b++)
                {
                    var m0 = (b0 + b) * MR;
                    var block = dwt + (long)m0 * g.C + c0;
                    for (var t = 0; t < taps; t++)
                    {
                        // Partial sums of the earlier chunks come from the tap-major copy; the last chunk's go through a small
                        // block straight into dW's order (the tap-major copy of a 512-channel layer's dW is 9 MB).
                        var partial = block + (long)t * g.M * g.C;
                        Accumulate(xt + tapX[t] + c0, rowX + u0, u1 - u0, g.OW, xStep, pp + ((long)b * positions + (long)u0 * g.OW) * MR,
                            u0 > 0 ? partial : null, g.C, last ? pl + t * MR * cb : partial, last ? cb : g.C);
                    }
                    if (!last) continue;
                    for (var r = 0; r < MR; r++)
                        TapsLast(pl + r * cb, MR * cb, taps, cb, dw + ((long)(m0 + r) * g.C + c0) * taps);
                }
            }
        }
    }

    /// <summary>One sample, NCHW → zero-padded [Hp, Wp, ·], positions <paramref name="c"/> apart.</summary>
    private static void ChannelsLast<T>(ConvGeometry g, int hp, int wp, int c, T* src, T* dst) where T : unmanaged
    {
        var row = (long)wp * c;
        new Span<T>(dst, (int)(g.PH * row)).Clear();
        new Span<T>(dst + (g.PH + g.H) * row, (int)((hp - g.PH - g.H) * row)).Clear();
        for (var ih = 0; ih < g.H; ih++)
        {
            var at = dst + (g.PH + ih) * row;
            new Span<T>(at, g.PW * c).Clear();
            new Span<T>(at + (long)(g.PW + g.W) * c, (wp - g.PW - g.W) * c).Clear();
        }
        T* Position(int p) => dst + ((long)(p / g.W + g.PH) * wp + p % g.W + g.PW) * c;
        var plane = g.H * g.W;
        var p0 = 0;
        if (Transpose8.Supported<T>())
        {
            // 8 positions × 8 channels at a time: straight into place when the positions share a row, else through a block.
            var block = stackalloc float[64];
            for (; p0 + 8 <= plane; p0 += 8)
            {
                var to = Position(p0);
                var inRow = p0 % g.W + 8 <= g.W;
                for (var ch = 0; ch < g.C; ch += 8)
                {
                    var from = (float*)(src + (long)ch * plane + p0);
                    if (inRow)
                    {
                        Transpose8.Block(from, plane, (float*)to + ch, c);
                        continue;
                    }
                    Transpose8.Block(from, plane, block, 8);
                    for (var j = 0; j < 8; j++) new ReadOnlySpan<float>(block + 8 * j, 8).CopyTo(new Span<float>((float*)Position(p0 + j) + ch, 8));
                }
            }
        }
        for (; p0 < plane; p0++)
        {
            var to = Position(p0);
            for (var ch = 0; ch < g.C; ch++) to[ch] = src[(long)ch * plane + p0];
        }
    }

    /// <summary>dst[ch·taps + t] = src[t·stride + ch] for ch &lt; <paramref name="count"/>: 8 × 8 blocks in registers, the ninth tap and beyond one by one.</summary>
    private static void TapsLast<T>(T* src, int stride, int taps, int count, T* dst) where T : unmanaged
    {
        var t0 = 0;
        if (Transpose8.Supported<T>())
            for (; t0 + 8 <= taps; t0 += 8)
            for (var ch = 0; ch < count; ch += 8)
                Transpose8.Block((float*)(src + (long)t0 * stride + ch), stride, (float*)(dst + (long)ch * taps + t0), taps);
        for (; t0 < taps; t0++)
        for (var ch = 0; ch < count; ch++)
            dst[(long)ch * taps + t0] = src[(long)t0 * stride + ch];
    }

    /// <summary>8 rows of <paramref name="stride"/> elements, one after the other → [stride, 8].</summary>
    private static void Interleave<T>(T* src, int stride, T* dst) where T : unmanaged
    {
        var p = 0;
        if (Transpose8.Supported<T>())
            for (; p + 8 <= stride; p += 8)
                Transpose8.Block((float*)(src + p), stride, (float*)(dst + p * MR), MR);
        for (; p < stride; p++)
        for (var r = 0; r < MR; r++)
            dst[p * MR + r] = src[(long)r * stride + p];
    }

    /// <summary>
    /// acc[r, 0 … 2w) = from[r, ·] (zero when null) + Σ over rows i and columns j of dy[·, r] · x[rowX[i] + j·xStep + (0 … 2w)],
    /// dy advancing 8 per position; rows of from <paramref name="ldFrom"/> and of acc <paramref name="ldAcc"/>
    /// apart.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Accumulate<T>(T* x, nint* rowX, int rows, int cols, nint xStep, T* dy, T* from, nint ldFrom, T* acc, nint ldAcc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var w = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<T> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        if (from != null)
        {
            var a = from;
            c00 = Load(a); c01 = Load(a + w); a += ldFrom;
            c10 = Load(a); c11 = Load(a + w); a += ldFrom;
            c20 = Load(a); c21 = Load(a + w); a += ldFrom;
            c30 = Load(a); c31 = Load(a + w); a += ldFrom;
            c40 = Load(a); c41 = Load(a + w); a += ldFrom;
            c50 = Load(a); c51 = Load(a + w); a += ldFrom;
            c60 = Load(a); c61 = Load(a + w); a += ldFrom;
            c70 = Load(a); c71 = Load(a + w);
        }
        for (var i = 0; i < rows; i++)
        {
            var xp = x + rowX[i];
            for (var j = 0; j < cols; j++, xp += xStep, dy += MR)
            {
                var b0 = Load(xp);
                var b1 = Load(xp + w);
                var s = Create(dy[0]); c00 = MicroKernel.Fma(s, b0, c00); c01 = MicroKernel.Fma(s, b1, c01);
                s = Create(dy[1]); c10 = MicroKernel.Fma(s, b0, c10); c11 = MicroKernel.Fma(s, b1, c11);
                s = Create(dy[2]); c20 = MicroKernel.Fma(s, b0, c20); c21 = MicroKernel.Fma(s, b1, c21);
                s = Create(dy[3]); c30 = MicroKernel.Fma(s, b0, c30); c31 = MicroKernel.Fma(s, b1, c31);
                s = Create(dy[4]); c40 = MicroKernel.Fma(s, b0, c40); c41 = MicroKernel.Fma(s, b1, c41);
                s = Create(dy[5]); c50 = MicroKernel.Fma(s, b0, c50); c51 = MicroKernel.Fma(s, b1, c51);
                s = Create(dy[6]); c60 = MicroKernel.Fma(s, b0, c60); c61 = MicroKernel.Fma(s, b1, c61);
                s = Create(dy[7]); c70 = MicroKernel.Fma(s, b0, c70); c71 = MicroKernel.Fma(s, b1, c71);
            }
        }
        c00.Store(acc); c01.Store(acc + w); acc += ldAcc;
        c10.Store(acc); c11.Store(acc + w); acc += ldAcc;
        c20.Store(acc); c21.Store(acc + w); acc += ldAcc;
        c30.Store(acc); c31.Store(acc + w); acc += ldAcc;
        c40.Store(acc); c41.Store(acc + w); acc += ldAcc;
        c50.Store(acc); c51.Store(acc + w); acc += ldAcc;
        c60.Store(acc); c61.Store(acc + w); acc += ldAcc;
        c70.Store(acc); c71.Store(acc + w);
    }
}
