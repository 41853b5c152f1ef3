using System.Numerics;

namespace Backprop.Plugins.Core;

/// <summary>
/// Convolution as GEMM over patch rows: im2col writes one row per output position (length Cg·KH·KW), so the
/// forward is col·Wᵀ, the input gradient col2im(dY·W) and the weight gradient dYᵀ·col — all through the GEMM router.
/// Samples are processed in chunks to bound the patch buffer.
/// </summary>
internal static class ConvKernels
{
    private const long ChunkElements = 1 << 24;

    private static int Chunk(ConvGeometry g) => (int)Math.Clamp(ChunkElements / Math.Max(1L, (long)g.P * g.Kc), 1, g.N);

    /// <summary>Patch rows of samples [n0, n0+count) for group <paramref name="grp"/>.</summary>
    private static void Im2Col<T>(ReadOnlySpan<T> x, ConvGeometry g, int n0, int count, int grp, Span<T> col) where T : unmanaged, INumber<T>
    {
        var row = 0;
        for (var n = n0; n < n0 + count; n++)
        for (var oh = 0; oh < g.OH; oh++)
        for (var ow = 0; ow < g.OW; ow++, row++)
        {
            var dst = col.Slice(row * g.Kc, g.Kc);
            var q = 0;
            for (var c = 0; c < g.Cg; c++)
            {
                var plane = x.Slice(((n * g.C) + grp * g.Cg + c) * g.H * g.W, g.H * g.W);
                for (var i = 0; i < g.KH; i++)
                {
                    var ih = oh * g.SH - g.PH + i * g.DH;
                    for (var j = 0; j < g.KW; j++, q++)
                    {
                        var iw = ow * g.SW - g.PW + j * g.DW;
                        dst[q] = (uint)ih < (uint)g.H && (uint)iw < (uint)g.W ? plane[ih * g.W + iw] : T.Zero;
                    }
                }
            }
        }
    }

    /// <summary>Adds patch-row gradients back into the input gradient.</summary>
    private static void Col2Im<T>(ReadOnlySpan<T> col, ConvGeometry g, int n0, int count, int grp, Span<T> dx) where T : unmanaged, INumber<T>
    {
        var row = 0;
        for (var n = n0; n < n0 + count; n++)
        for (var oh = 0; oh < g.OH; oh++)
        for (var ow = 0; ow < g.OW; ow++, row++)
        {
            var src = col.Slice(row * g.Kc, g.Kc);
            var q = 0;
            for (var c = 0; c < g.Cg; c++)
            {
                var plane = dx.Slice(((n * g.C) + grp * g.Cg + c) * g.H * g.W, g.H * g.W);
                for (var i = 0; i < g.KH; i++)
                {
                    var ih = oh * g.SH - g.PH + i * g.DH;
                    for (var j = 0; j < g.KW; j++, q++)
                    {
                        var iw = ow * g.SW - g.PW + j * g.DW;
                        if ((uint)ih < (uint)g.H && (uint)iw < (uint)g.W) plane[ih * g.W + iw] += src[q];
                    }
                }
            }
        }
    }

    /// <summary>Rows layout [count·P, Mg] of an NCHW output-shaped tensor, for group grp (gather or scatter).</summary>
    private static void Rows<T>(Span<T> nchw, Span<T> rows, ConvGeometry g, int n0, int count, int grp, bool toRows)
    {
        for (var n = 0; n < count; n++)
        for (var m = 0; m < g.Mg; m++)
        {
            var plane = nchw.Slice((((n0 + n) * g.M) + grp * g.Mg + m) * g.P, g.P);
            for (var p = 0; p < g.P; p++)
            {
                ref var r = ref rows[(n * g.P + p) * g.Mg + m];
                if (toRows) r = plane[p];
                else plane[p] = r;
            }
        }
    }

    public static void Forward<T>(IGemmRouter router, IKernelProvider kernels, ConvGeometry g, Tensor x, Tensor w, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var chunk = Chunk(g);
        var col = new T[chunk * g.P * g.Kc];
        var rows = new T[chunk * g.P * g.Mg];
        var gemm = router.Select(kernels, false, true, chunk * g.P, g.Mg, g.Kc, DTypeExtensions.Of<T>());
        for (var n0 = 0; n0 < g.N; n0 += chunk)
        {
            var count = Math.Min(chunk, g.N - n0);
            for (var grp = 0; grp < g.Group; grp++)
            {
                Im2Col<T>(x.Span<T>(), g, n0, count, grp, col);
                Call(gemm, false, true, count * g.P, g.Mg, g.Kc, col, g.Kc, w.Span<T>().Slice(grp * g.Mg * g.Kc, g.Mg * g.Kc), g.Kc, T.Zero, rows, g.Mg);
                Rows<T>(y.Span<T>(), rows, g, n0, count, grp, toRows: false);
            }
        }
    }

    public static void GradInput<T>(IGemmRouter router, IKernelProvider kernels, ConvGeometry g, Tensor dy, Tensor w, Tensor dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var chunk = Chunk(g);
        var col = new T[chunk * g.P * g.Kc];
        var rows = new T[chunk * g.P * g.Mg];
        var gemm = router.Select(kernels, false, false, chunk * g.P, g.Kc, g.Mg, DTypeExtensions.Of<T>());
        for (var n0 = 0; n0 < g.N; n0 += chunk)
        {
            var count = Math.Min(chunk, g.N - n0);
            for (var grp = 0; grp < g.Group; grp++)
            {
                Rows<T>(dy.Span<T>(), rows, g, n0, count, grp, toRows: true);
                Call(gemm, false, false, count * g.P, g.Kc, g.Mg, rows, g.Mg, w.Span<T>().Slice(grp * g.Mg * g.Kc, g.Mg * g.Kc), g.Kc, T.Zero, col, g.Kc);
                Col2Im<T>(col, g, n0, count, grp, dx.Span<T>());
            }
        }
    }

    public static void GradWeight<T>(IGemmRouter router, IKernelProvider kernels, ConvGeometry g, Tensor x, Tensor dy, Tensor dw) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var chunk = Chunk(g);
        var col = new T[chunk * g.P * g.Kc];
        var rows = new T[chunk * g.P * g.Mg];
        var gemm = router.Select(kernels, true, false, g.Mg, g.Kc, chunk * g.P, DTypeExtensions.Of<T>());
        for (var n0 = 0; n0 < g.N; n0 += chunk)
        {
            var count = Math.Min(chunk, g.N - n0);
            for (var grp = 0; grp < g.Group; grp++)
            {
                Im2Col<T>(x.Span<T>(), g, n0, count, grp, col);
                Rows<T>(dy.Span<T>(), rows, g, n0, count, grp, toRows: true);
                Call(gemm, true, false, g.Mg, g.Kc, count * g.P, rows, g.Mg, col, g.Kc, T.One, dw.Span<T>().Slice(grp * g.Mg * g.Kc, g.Mg * g.Kc), g.Kc);
            }
        }
    }

    private static void Call<T>(IGemm gemm, bool ta, bool tb, int m, int n, int k, ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var aLen = ((ta ? k : m) - 1) * lda + (ta ? m : k);
        var bLen = ((tb ? n : k) - 1) * ldb + (tb ? k : n);
        var cLen = (m - 1) * ldc + n;
        if (typeof(T) == typeof(float))
            gemm.Gemm(ta, tb, m, n, k, 1f, Cast<T, float>(a[..aLen]), lda, Cast<T, float>(b[..bLen]), ldb, float.CreateTruncating(beta), CastMut<T, float>(c[..cLen]), ldc);
        else
            gemm.Gemm(ta, tb, m, n, k, 1d, Cast<T, double>(a[..aLen]), lda, Cast<T, double>(b[..bLen]), ldb, double.CreateTruncating(beta), CastMut<T, double>(c[..cLen]), ldc);
    }

    private static ReadOnlySpan<TTo> Cast<TFrom, TTo>(ReadOnlySpan<TFrom> s) where TFrom : unmanaged where TTo : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<TFrom, TTo>(s);

    private static Span<TTo> CastMut<TFrom, TTo>(Span<TFrom> s) where TFrom : unmanaged where TTo : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<TFrom, TTo>(s);
}
