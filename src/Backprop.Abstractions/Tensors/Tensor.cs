using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Backprop;

/// <summary>
/// A dense, row-major n-dimensional array. Tensors produced while gradients are recorded carry the
/// graph node that produced them (<see cref="GradFn"/>); operators dispatch to registered ops.
/// </summary>
public sealed partial class Tensor
{
    private readonly Array _data;
    private readonly BufferLoan? _loan;

    /// <summary>Wraps <paramref name="data"/> (not copied) as a tensor of <paramref name="shape"/>.</summary>
    public Tensor(Array data, Shape shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        DType = data switch
        {
            float[] => DType.Float32,
            double[] => DType.Float64,
            long[] => DType.Int64,
            bool[] => DType.Bool,
            _ => throw new DTypeException($"Tensors store float[], double[], long[] or bool[], not {data.GetType().Name}."),
        };
        if (data.Length < shape.Size)
            throw new ShapeException($"Buffer of {data.Length} elements is too small for shape {shape} ({shape.Size} elements).");
        _data = data;
        Shape = shape;
    }

    /// <summary>A tensor over a lent buffer (or a view of one): it shares <paramref name="loan"/> with every other view.</summary>
    internal Tensor(BufferLoan loan, Shape shape) : this(loan.Array, shape) => _loan = loan;

    /// <summary>A tensor over the same buffer and loan as this one.</summary>
    private Tensor Alias(Shape shape)
    {
        var data = Data;
        return _loan is null ? new Tensor(data, shape) : new Tensor(_loan, shape);
    }

    /// <summary>The buffer, after checking it was not given back to its pool.</summary>
    private Array Data => _loan is { Returned: true } ? throw Released() : _data;

    private ReleasedTensorException Released() => new(
        $"This {DType} tensor of shape {Shape} was released: its buffer went back to the pool when its TensorScope ended (or its " +
        "lease released it). Read what you need inside the scope, or call Keep() on tensors that must outlive it.");

    /// <summary>
    /// Exempts this tensor's buffer (and so every view of it) from the <see cref="TensorScope"/> or lease that lent it: it
    /// stays with its tensors and is never reused. No effect on tensors that were not lent. Returns this tensor.
    /// </summary>
    public Tensor Keep()
    {
        if (_loan is { } loan)
        {
            if (loan.Returned) throw Released();
            (loan.Kept, loan.HeldByGrad) = (true, false);
        }
        return this;
    }

    /// <summary>Keeps a lent buffer past its scope because this tensor is being stored as a gradient.</summary>
    private Tensor HoldAsGrad()
    {
        if (_loan is { Kept: false } loan)
        {
            if (loan.Returned) throw Released();
            (loan.Kept, loan.HeldByGrad) = (true, true);
        }
        return this;
    }

    /// <summary>True when this tensor's buffer went back to its pool; such a tensor cannot be read.</summary>
    public bool IsReleased => _loan is { Returned: true };

    /// <summary>A tensor over a fresh GC array (zeroed when <paramref name="clear"/>).</summary>
    internal static Tensor Unpooled(Shape shape, DType dtype, bool clear) => (dtype, clear) switch
    {
        (DType.Float32, false) => new Tensor(GC.AllocateUninitializedArray<float>(shape.Size), shape),
        (DType.Float64, false) => new Tensor(GC.AllocateUninitializedArray<double>(shape.Size), shape),
        (DType.Int64, false) => new Tensor(GC.AllocateUninitializedArray<long>(shape.Size), shape),
        _ => new Tensor(Array.CreateInstance(dtype.ClrType(), shape.Size), shape),
    };

    /// <summary>The dimensions.</summary>
    public Shape Shape { get; }

    /// <summary>The element type.</summary>
    public DType DType { get; }

    /// <summary>Number of dimensions.</summary>
    public int Rank => Shape.Rank;

    /// <summary>Number of elements.</summary>
    public int Size => Shape.Size;

    /// <summary>The underlying buffer (may be longer than <see cref="Size"/>).</summary>
    internal Array Buffer => Data;

    /// <summary>The elements as a span of <typeparamref name="T"/>, which must match <see cref="DType"/>.</summary>
    public Span<T> Span<T>() where T : unmanaged
    {
        if (Data is not T[] typed)
            throw new DTypeException($"Tensor of dtype {DType} read as {typeof(T).Name}.");
        return typed.AsSpan(0, Size);
    }

    /// <summary>True when this tensor shares its buffer with <paramref name="other"/>.</summary>
    public bool SharesBufferWith(Tensor other) => ReferenceEquals(_data, other._data);

    /// <summary>A new tensor of <paramref name="shape"/> that shares this tensor's buffer (no copy, no graph).</summary>
    public Tensor ViewAs(Shape shape)
    {
        if (shape.Size != Size) throw new ShapeException($"Cannot view {Shape} ({Size} elements) as {shape} ({shape.Size} elements).");
        return Alias(shape);
    }

    /// <summary>The single value of a one-element tensor, as double.</summary>
    public double Item()
    {
        if (Size != 1) throw new ShapeException($"Item() needs a one-element tensor, got shape {Shape}.");
        return GetAsDouble(0);
    }

    /// <summary>Element <paramref name="flatIndex"/> converted to double.</summary>
    public double GetAsDouble(int flatIndex) => Data switch
    {
        float[] f => f[flatIndex],
        double[] d => d[flatIndex],
        long[] l => l[flatIndex],
        bool[] b => b[flatIndex] ? 1 : 0,
        _ => throw new InvalidOperationException(),
    };

    /// <summary>All elements converted to double.</summary>
    public double[] ToDoubleArray()
    {
        var r = new double[Size];
        for (var i = 0; i < r.Length; i++) r[i] = GetAsDouble(i);
        return r;
    }

    /// <summary>All elements converted to float.</summary>
    public float[] ToFloatArray()
    {
        var r = new float[Size];
        for (var i = 0; i < r.Length; i++) r[i] = (float)GetAsDouble(i);
        return r;
    }

    /// <summary>All elements converted to long.</summary>
    public long[] ToInt64Array()
    {
        var r = new long[Size];
        for (var i = 0; i < r.Length; i++) r[i] = (long)GetAsDouble(i);
        return r;
    }

    /// <summary>A deep copy without graph history.</summary>
    public Tensor Clone()
    {
        var copy = Array.CreateInstance(DType.ClrType(), Size);
        Array.Copy(Data, copy, Size);
        return new Tensor(copy, Shape);
    }

    /// <summary>Copies <paramref name="source"/>'s values into this tensor in place (same shape and dtype).</summary>
    public void CopyFrom(Tensor source)
    {
        if (source.Shape != Shape || source.DType != DType)
            throw new ShapeException($"CopyFrom needs the same shape and dtype: {Shape} {DType} vs {source.Shape} {source.DType}.");
        Array.Copy(source.Data, Data, Size);
    }

    /// <summary>Reinterprets the raw bytes of the elements (for serialisation).</summary>
    public ReadOnlySpan<byte> AsBytes() => Data switch
    {
        float[] f => MemoryMarshal.AsBytes(f.AsSpan(0, Size)),
        double[] d => MemoryMarshal.AsBytes(d.AsSpan(0, Size)),
        long[] l => MemoryMarshal.AsBytes(l.AsSpan(0, Size)),
        bool[] b => MemoryMarshal.AsBytes(b.AsSpan(0, Size)),
        _ => throw new InvalidOperationException(),
    };

    /// <inheritdoc />
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("Tensor(").Append(DType).Append(' ').Append(Shape);
        var n = Math.Min(Size, 8);
        sb.Append(" [");
        for (var i = 0; i < n; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(GetAsDouble(i).ToString("G6", CultureInfo.InvariantCulture));
        }
        if (Size > n) sb.Append(", …");
        sb.Append(']');
        if (GradFn is not null) sb.Append(" grad_fn=").Append(GradFn.OpName);
        else if (RequiresGrad) sb.Append(" requires_grad");
        return sb.Append(')').ToString();
    }
}
