using System.Collections;

namespace Backprop;

/// <summary>An immutable list of dimension sizes, row-major.</summary>
public readonly struct Shape : IEquatable<Shape>, IReadOnlyList<int>
{
    private readonly int[]? _dims;

    /// <summary>Creates a shape; every dimension must be non-negative.</summary>
    public Shape(params int[] dims)
    {
        foreach (var d in dims)
        {
            if (d < 0) throw new ShapeException($"Shape [{string.Join(", ", dims)}] has a negative dimension.");
        }
        long n = 1;
        foreach (var d in dims)
        {
            n *= d;
            if (n > Array.MaxLength) throw new ShapeException($"Shape [{string.Join(", ", dims)}] has more elements than one buffer can hold ({Array.MaxLength}).");
        }
        _dims = (int[])dims.Clone();
    }

    private Shape(int[] dims, bool trusted)
    {
        _ = trusted;
        _dims = dims;
    }

    /// <summary>The shape of a 0-d (scalar) tensor.</summary>
    public static Shape Scalar => new([]);

    /// <summary>Number of dimensions.</summary>
    public int Rank => _dims?.Length ?? 0;

    /// <summary>Number of elements (1 for a scalar).</summary>
    public int Size
    {
        get
        {
            var n = 1;
            foreach (var d in Dims) n *= d;
            return n;
        }
    }

    /// <summary>The dimensions as a span.</summary>
    public ReadOnlySpan<int> Dims => _dims ?? [];

    /// <summary>Dimension <paramref name="axis"/>; negative axes count from the end.</summary>
    public int this[int axis] => Dims[NormalizeAxis(axis)];

    /// <inheritdoc />
    public int Count => Rank;

    /// <summary>Maps a possibly negative axis into [0, Rank).</summary>
    public int NormalizeAxis(int axis) => NormalizeAxis(axis, Rank);

    /// <summary>Maps a possibly negative axis into [0, rank).</summary>
    public static int NormalizeAxis(int axis, int rank)
    {
        var a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new ShapeException($"Axis {axis} is out of range for rank {rank}.");
        return a;
    }

    /// <summary>Row-major element strides.</summary>
    public int[] Strides()
    {
        var dims = Dims;
        var s = new int[dims.Length];
        var acc = 1;
        for (var i = dims.Length - 1; i >= 0; i--)
        {
            s[i] = acc;
            acc *= dims[i];
        }
        return s;
    }

    /// <summary>The dimensions as a new array.</summary>
    public int[] ToArray() => Dims.ToArray();

    /// <summary>NumPy broadcasting of two shapes.</summary>
    public static Shape Broadcast(Shape a, Shape b)
    {
        if (a.Equals(b)) return a;
        var rank = Math.Max(a.Rank, b.Rank);
        var dims = new int[rank];
        for (var i = 0; i < rank; i++)
        {
            var da = i < rank - a.Rank ? 1 : a.Dims[i - (rank - a.Rank)];
            var db = i < rank - b.Rank ? 1 : b.Dims[i - (rank - b.Rank)];
            if (da != db && da != 1 && db != 1)
                throw new ShapeException($"Shapes {a} and {b} do not broadcast: dimension {i} is {da} vs {db}.");
            dims[i] = da == 1 ? db : da;
        }
        return new Shape(dims, trusted: true);
    }

    /// <summary>Strides for reading a tensor of this shape as if broadcast to <paramref name="target"/> (0 on broadcast dims).</summary>
    public int[] BroadcastStrides(Shape target)
    {
        var own = Strides();
        var result = new int[target.Rank];
        var offset = target.Rank - Rank;
        if (offset < 0) throw new ShapeException($"Shape {this} cannot broadcast to lower-rank {target}.");
        for (var i = 0; i < Rank; i++)
        {
            var d = Dims[i];
            var t = target.Dims[i + offset];
            if (d == t) result[i + offset] = own[i];
            else if (d == 1) result[i + offset] = 0;
            else throw new ShapeException($"Shape {this} does not broadcast to {target}.");
        }
        return result;
    }

    /// <inheritdoc />
    public bool Equals(Shape other) => Dims.SequenceEqual(other.Dims);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var d in Dims) h.Add(d);
        return h.ToHashCode();
    }

    /// <summary>Equality of dimensions.</summary>
    public static bool operator ==(Shape a, Shape b) => a.Equals(b);

    /// <summary>Inequality of dimensions.</summary>
    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);

    /// <summary>A shape from an array of dimensions.</summary>
    public static implicit operator Shape(int[] dims) => new(dims);

    /// <inheritdoc />
    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)(_dims ?? [])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public override string ToString() => $"[{string.Join(", ", (_dims ?? []))}]";
}
