using System.Numerics;

namespace Backprop.Plugins.Core;

/// <summary>
/// What a convolution does to each output plane while copying it out of the GEMM's scratch: y = c·a[ch] + b[ch]
/// (+ r, the same plane of a residual tensor), then max(·, 0) when <see cref="Relu"/> — one pass over data still in cache
/// instead of separate affine, add and ReLU passes over the whole output.
/// </summary>
internal sealed class ConvEpilogue(Tensor scale, Tensor shift, Tensor? residual, bool relu)
{
    public bool Relu { get; } = relu;

    public void Apply<T>(ReadOnlySpan<T> c, Span<T> y, int channel, int offset) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (a, b) = (scale.Span<T>()[channel], shift.Span<T>()[channel]);
        var r = residual is null ? default : (ReadOnlySpan<T>)residual.Span<T>().Slice(offset, y.Length);
        var (va, vb) = (new Vector<T>(a), new Vector<T>(b));
        var i = 0;
        for (; i <= y.Length - Vector<T>.Count; i += Vector<T>.Count)
        {
            var v = new Vector<T>(c.Slice(i)) * va + vb;
            if (residual is not null) v += new Vector<T>(r.Slice(i));
            if (Relu) v = Vector.Max(v, Vector<T>.Zero);
            v.CopyTo(y.Slice(i));
        }
        for (; i < y.Length; i++)
        {
            var v = c[i] * a + b;
            if (residual is not null) v += r[i];
            y[i] = Relu ? T.Max(v, T.Zero) : v;
        }
    }
}
