using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Plugins.Core;

/// <summary>Numerically stable softmax / log-softmax along one axis (the maximum is subtracted first).</summary>
internal static class SoftmaxKernel
{
    public static Tensor Run(Tensor x, int axisAttr, bool log)
    {
        if (!x.DType.IsFloatingPoint()) throw new DTypeException($"{(log ? "LogSoftmax" : "Softmax")} takes float32 or float64, got {x.DType}.");
        var y = Tensor.Empty(x.Shape, x.DType);
        if (x.Size == 0) return y;
        var axis = x.Rank == 0 ? 0 : Shape.NormalizeAxis(axisAttr, x.Rank);
        var dim = x.Rank == 0 ? 1 : x.Shape.Dims[axis];
        var inner = x.Rank == 0 ? 1 : x.Shape.Dims[(axis + 1)..].ToArray().Aggregate(1, (a, b) => a * b);
        if (x.DType == DType.Float32) Rows(x.Span<float>(), y.Span<float>(), dim, inner, log);
        else Rows(x.Span<double>(), y.Span<double>(), dim, inner, log);
        return y;
    }

    /// <summary>
    /// Each of the outer·inner rows (stride <paramref name="inner"/>) independently; rows are split across cores when the
    /// tensor is large (attention scores are millions of elements). Contiguous rows (inner = 1) are read and written in
    /// place, strided ones gathered into a buffer first.
    /// </summary>
    private static unsafe void Rows<T>(ReadOnlySpan<T> x, Span<T> y, int dim, int inner, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rows = x.Length / dim;
        var threads = x.Length >= 1 << 16 ? Environment.ProcessorCount : 1;
        fixed (T* px = x, py = y)
        {
            var (ax, ay, length) = ((nint)px, (nint)py, x.Length);
            KernelThreads.ForRanges(rows, threads, (first, last) =>
            {
                var src = new ReadOnlySpan<T>((T*)ax, length);
                var dst = new Span<T>((T*)ay, length);
                var (row, buffer) = (inner == 1 ? null : new T[dim], log ? new T[dim] : null);
                for (var r = first; r < last; r++)
                {
                    if (inner == 1)
                    {
                        One(src.Slice(r * dim, dim), dst.Slice(r * dim, dim), buffer, log);
                        continue;
                    }
                    var start = r / inner * dim * inner + r % inner;
                    for (var i = 0; i < dim; i++) row![i] = src[start + i * inner];
                    One(row, row, buffer, log);
                    for (var i = 0; i < dim; i++) dst[start + i * inner] = row![i];
                }
            });
        }
    }

    /// <summary>
    /// The softmax VJP y ⊙ (g − ⟨g, y⟩) row by row when the axis is the last one and y, g share shape and dtype; null
    /// otherwise (the caller then uses the rule written in ops).
    /// </summary>
    public static Tensor? Backward(Tensor y, Tensor g, int axisAttr)
    {
        if (y.Rank == 0 || g.Shape != y.Shape || g.DType != y.DType || !y.DType.IsFloatingPoint()) return null;
        if (Shape.NormalizeAxis(axisAttr, y.Rank) != y.Rank - 1 || y.Size == 0) return null;
        var dx = Tensor.Empty(y.Shape, y.DType);
        if (y.DType == DType.Float32) BackwardRows(y.Span<float>(), g.Span<float>(), dx.Span<float>(), y.Shape.Dims[^1]);
        else BackwardRows(y.Span<double>(), g.Span<double>(), dx.Span<double>(), y.Shape.Dims[^1]);
        return dx;
    }

    private static unsafe void BackwardRows<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> g, Span<T> dx, int dim) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rows = y.Length / dim;
        var threads = y.Length >= 1 << 16 ? Environment.ProcessorCount : 1;
        fixed (T* py = y, pg = g, pd = dx)
        {
            var (ay, ag, ad, length) = ((nint)py, (nint)pg, (nint)pd, y.Length);
            KernelThreads.ForRanges(rows, threads, (first, last) =>
            {
                for (var r = first; r < last; r++)
                {
                    var yr = new ReadOnlySpan<T>((T*)ay + (long)r * dim, dim);
                    var gr = new ReadOnlySpan<T>((T*)ag + (long)r * dim, dim);
                    var dr = new Span<T>((T*)ad + (long)r * dim, dim);
                    TensorPrimitives.Subtract(gr, TensorPrimitives.Dot(gr, yr), dr);
                    TensorPrimitives.Multiply(dr, yr, dr);
                }
            });
        }
    }

    private static void One<T>(ReadOnlySpan<T> x, Span<T> y, T[]? buffer, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var max = TensorPrimitives.Max(x);
        if (T.IsInfinity(max)) max = T.Zero;
        TensorPrimitives.Subtract(x, max, y);
        if (log)
        {
            var e = buffer.AsSpan(0, y.Length);
            TensorPrimitives.Exp<T>(y, e);
            TensorPrimitives.Subtract(y, T.Log(TensorPrimitives.Sum<T>(e)), y);
        }
        else
        {
            TensorPrimitives.Exp<T>(y, y);
            TensorPrimitives.Divide(y, TensorPrimitives.Sum<T>(y), y);
        }
    }
}
