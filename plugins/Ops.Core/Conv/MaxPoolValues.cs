using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Plugins.Core;

/// <summary>
/// MaxPool's values without the indices (what a model asks for when its node has one output): composed of
/// <see cref="MaxPool"/>, so derivatives scatter through its indices as before; when nothing is recorded a values-only
/// kernel runs, reducing window rows and then window columns with SIMD maxima, with no per-output index search.
/// </summary>
internal sealed class MaxPoolValues : CompositeOp, IFusedKernel, IOpSamples
{
    public override OpSchema Schema { get; } = new(Ops.BackpropDomain, "MaxPoolValues", 1, 1, 1);

    public override Tensor[] Compose(ReadOnlySpan<Tensor> x, OpAttributes attributes) => [Ops.CallMulti("", "MaxPool", attributes, x[0])[0]];

    public Tensor[] RunFused(OpContext ctx, ReadOnlySpan<Tensor> inputs)
    {
        var x = inputs[0];
        if (!x.DType.IsFloatingPoint()) return Compose(inputs, ctx.Attributes);
        var g = ConvGeometry.Of("MaxPool", x.Shape, x.Shape[1], ctx.Attributes.GetInts("kernel_shape"), ctx.Attributes);
        var y = Tensor.Empty(new Shape([g.N, g.C, .. (g.SpatialRank == 1 ? new[] { g.OW } : [g.OH, g.OW])]), x.DType);
        if (x.DType == DType.Float32) Planes<float>(x, y, g);
        else Planes<double>(x, y, g);
        return [y];
    }

    private static void Planes<T>(Tensor x, Tensor y, ConvGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var planes = g.N * g.C;
        var large = (long)planes * g.OH * g.OW * g.KH * g.KW >= 1 << 15;
        var parts = KernelThreads.Threads;
        void Rows(int first, int last, int y0, int y1)
        {
            Span<T> column = g.W <= 2048 ? stackalloc T[g.W] : new T[g.W];
            Span<T> taps = g.OW <= 2048 ? stackalloc T[g.OW] : new T[g.OW];
            for (var plane = first; plane < last; plane++)
                Plane(x.Span<T>().Slice(plane * g.H * g.W, g.H * g.W), y.Span<T>().Slice(plane * g.OH * g.OW, g.OH * g.OW), g, column, taps, y0, y1);
        }
        // Bands of output rows, one per core and the same every call, like the convolutions around it: each core reads the
        // rows the convolution before wrote on that core and writes those the next one reads there.
        if (large && g.OH >= parts) KernelThreads.ForEachThread(part => Rows(0, planes, g.OH * part / parts, g.OH * (part + 1) / parts));
        else KernelThreads.ForRanges(planes, large ? Environment.ProcessorCount : 1, (first, last) => Rows(first, last, 0, g.OH));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Plane<T>(ReadOnlySpan<T> src, Span<T> dst, ConvGeometry g, Span<T> column, Span<T> taps, int y0, int y1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int h = g.H, w = g.W, ow = g.OW, kw = g.KW, sw = g.SW, pw = g.PW, dw = g.DW;
        // Output columns whose every tap lies inside the row: [inner0, inner1).
        var inner0 = Math.Min(ow, (pw + sw - 1) / sw);
        var reach = w - 1 - (kw - 1) * dw + pw;
        var inner1 = reach < 0 ? inner0 : Math.Max(inner0, Math.Min(ow, reach / sw + 1));
        for (var y = y0; y < y1; y++)
        {
            var out_ = dst.Slice(y * ow, ow);
            var top = y * g.SH - g.PH;
            var (i0, i1) = MaxPool.Inside(top, g.DH, g.KH, h);
            if (i0 >= i1)
            {
                out_.Fill(T.NegativeInfinity);
                continue;
            }
            src.Slice((top + i0 * g.DH) * w, w).CopyTo(column);
            for (var i = i0 + 1; i < i1; i++) TensorPrimitives.Max(column, src.Slice((top + i * g.DH) * w, w), column);
            for (var ox = 0; ox < ow; ox++)
            {
                if (ox == inner0 && inner1 > inner0)
                {
                    Inner(column, out_[inner0..inner1], taps[..(inner1 - inner0)], inner0 * sw - pw, kw, sw, dw);
                    ox = inner1 - 1;
                    continue;
                }
                var iw0 = ox * sw - pw;
                var (j0, j1) = MaxPool.Inside(iw0, dw, kw, w);
                var best = T.NegativeInfinity;
                for (var j = j0; j < j1; j++) best = j == j0 ? column[iw0 + j * dw] : T.Max(best, column[iw0 + j * dw]);
                out_[ox] = best;
            }
        }
    }

    /// <summary>out[x] = max over taps j of column[start + x·sw + j·dw], one tap at a time across the whole run of outputs.</summary>
    private static void Inner<T>(ReadOnlySpan<T> column, Span<T> out_, Span<T> taps, int start, int kw, int sw, int dw) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (var j = 0; j < kw; j++)
        {
            var from = column[(start + j * dw)..];
            var target = j == 0 ? out_ : taps;
            EveryNth.Gather(sw, from, target);
            if (j > 0) TensorPrimitives.Max(out_, taps, out_);
        }
    }

    public IEnumerable<OpSample> Samples(Random rng)
    {
        OpAttributes A(params (string, object)[] a) => OpAttributes.Of(a);
        yield return new OpSample("3x3 stride 2 pads 1", [ReduceSamples.Distinct(rng, [2, 2, 7, 9])], A(("kernel_shape", new[] { 3, 3 }), ("strides", new[] { 2, 2 }), ("pads", new[] { 1, 1, 1, 1 })));
        yield return new OpSample("2x2 stride 2", [ReduceSamples.Distinct(rng, [1, 3, 6, 6])], A(("kernel_shape", new[] { 2, 2 }), ("strides", new[] { 2, 2 })));
        yield return new OpSample("3x2 stride 1 dilation 2", [ReduceSamples.Distinct(rng, [1, 2, 7, 8])], A(("kernel_shape", new[] { 3, 2 }), ("dilations", new[] { 2, 2 }), ("pads", new[] { 0, 1, 1, 0 })));
        yield return new OpSample("1-D 3 stride 3", [ReduceSamples.Distinct(rng, [2, 2, 11])], A(("kernel_shape", new[] { 3 }), ("strides", new[] { 3 })));
    }
}
