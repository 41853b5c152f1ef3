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

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Rows<T>(ReadOnlySpan<T> x, Span<T> y, int dim, int inner, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var outer = x.Length / (dim * inner);
        Span<T> row = dim <= 1024 ? stackalloc T[dim] : new T[dim];
        for (var o = 0; o < outer; o++)
        {
            for (var j = 0; j < inner; j++)
            {
                var start = o * dim * inner + j;
                for (var i = 0; i < dim; i++) row[i] = x[start + i * inner];
                One(row, log);
                for (var i = 0; i < dim; i++) y[start + i * inner] = row[i];
            }
        }
    }

    private static void One<T>(Span<T> row, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var max = TensorPrimitives.Max<T>(row);
        if (T.IsInfinity(max)) max = T.Zero;
        TensorPrimitives.Subtract(row, max, row);
        if (log)
        {
            Span<T> e = row.Length <= 1024 ? stackalloc T[row.Length] : new T[row.Length];
            TensorPrimitives.Exp<T>(row, e);
            var lse = T.Log(TensorPrimitives.Sum<T>(e));
            TensorPrimitives.Subtract(row, lse, row);
        }
        else
        {
            TensorPrimitives.Exp<T>(row, row);
            TensorPrimitives.Divide(row, TensorPrimitives.Sum<T>(row), row);
        }
    }
}
