namespace Backprop;

public sealed partial class Tensor
{
    /// <summary>A float32 tensor over a copy of <paramref name="values"/>.</summary>
    public static Tensor FromArray(float[] values, params int[] dims) => new((float[])values.Clone(), Resolve(values.Length, dims));

    /// <summary>A float64 tensor over a copy of <paramref name="values"/>.</summary>
    public static Tensor FromArray(double[] values, params int[] dims) => new((double[])values.Clone(), Resolve(values.Length, dims));

    /// <summary>An int64 tensor over a copy of <paramref name="values"/>.</summary>
    public static Tensor FromArray(long[] values, params int[] dims) => new((long[])values.Clone(), Resolve(values.Length, dims));

    /// <summary>A bool tensor over a copy of <paramref name="values"/>.</summary>
    public static Tensor FromArray(bool[] values, params int[] dims) => new((bool[])values.Clone(), Resolve(values.Length, dims));

    /// <summary>A 0-d tensor holding <paramref name="value"/> converted to <paramref name="dtype"/>.</summary>
    public static Tensor Scalar(double value, DType dtype = DType.Float32) => Full(Shape.Scalar, value, dtype);

    /// <summary>A zero-filled tensor (from the active <see cref="TensorScope"/> or <see cref="BufferLease"/>, if any).</summary>
    public static Tensor Zeros(Shape shape, DType dtype = DType.Float32) =>
        Lending.Create(shape, dtype, clear: true);

    /// <summary>A tensor filled with ones.</summary>
    public static Tensor Ones(Shape shape, DType dtype = DType.Float32) => Full(shape, 1, dtype);

    /// <summary>A tensor whose every element is <paramref name="value"/> converted to <paramref name="dtype"/>.</summary>
    public static Tensor Full(Shape shape, double value, DType dtype = DType.Float32)
    {
        var t = Zeros(shape, dtype);
        switch (dtype)
        {
            case DType.Float32: t.Span<float>().Fill((float)value); break;
            case DType.Float64: t.Span<double>().Fill(value); break;
            case DType.Int64: t.Span<long>().Fill((long)value); break;
            case DType.Bool: t.Span<bool>().Fill(value != 0); break;
        }
        return t;
    }

    /// <summary>An uninitialised tensor for kernels to fill (bool tensors start false).</summary>
    public static Tensor Empty(Shape shape, DType dtype) =>
        Lending.Create(shape, dtype, clear: dtype == DType.Bool);

    /// <summary>Zeros with the shape and dtype of <paramref name="like"/>.</summary>
    public static Tensor ZerosLike(Tensor like) => Zeros(like.Shape, like.DType);

    /// <summary>Ones with the shape and dtype of <paramref name="like"/>.</summary>
    public static Tensor OnesLike(Tensor like) => Ones(like.Shape, like.DType);

    /// <summary>Values drawn uniformly from [low, high).</summary>
    public static Tensor Uniform(Shape shape, Random rng, double low = -1, double high = 1, DType dtype = DType.Float32)
    {
        var values = new double[shape.Size];
        for (var i = 0; i < values.Length; i++) values[i] = low + (high - low) * rng.NextDouble();
        return FromDoubles(values, shape, dtype);
    }

    /// <summary>Values drawn from a normal distribution (Box–Muller).</summary>
    public static Tensor Normal(Shape shape, Random rng, double mean = 0, double std = 1, DType dtype = DType.Float32)
    {
        var values = new double[shape.Size];
        for (var i = 0; i < values.Length; i++)
        {
            var u1 = 1.0 - rng.NextDouble();
            var u2 = rng.NextDouble();
            values[i] = mean + std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        }
        return FromDoubles(values, shape, dtype);
    }

    /// <summary>A tensor of <paramref name="dtype"/> holding <paramref name="values"/> converted.</summary>
    public static Tensor FromDoubles(ReadOnlySpan<double> values, Shape shape, DType dtype)
    {
        if (values.Length != shape.Size) throw new ShapeException($"{values.Length} values do not fill shape {shape}.");
        var t = Zeros(shape, dtype);
        switch (dtype)
        {
            case DType.Float32: { var s = t.Span<float>(); for (var i = 0; i < s.Length; i++) s[i] = (float)values[i]; break; }
            case DType.Float64: values.CopyTo(t.Span<double>()); break;
            case DType.Int64: { var s = t.Span<long>(); for (var i = 0; i < s.Length; i++) s[i] = (long)values[i]; break; }
            case DType.Bool: { var s = t.Span<bool>(); for (var i = 0; i < s.Length; i++) s[i] = values[i] != 0; break; }
        }
        return t;
    }

    private static Shape Resolve(int length, int[] dims)
    {
        if (dims.Length == 0) return new Shape(length);
        var shape = new Shape(dims);
        if (shape.Size != length) throw new ShapeException($"{length} values do not fill shape {shape} ({shape.Size} elements).");
        return shape;
    }
}
