using System.Collections.Immutable;
using System.Globalization;

namespace Backprop;

/// <summary>Immutable named attributes of one op invocation (long, double, string, long[], double[], Tensor).</summary>
public sealed class OpAttributes
{
    private readonly ImmutableDictionary<string, object> _values;

    /// <summary>No attributes.</summary>
    public static OpAttributes Empty { get; } = new(ImmutableDictionary<string, object>.Empty);

    private OpAttributes(ImmutableDictionary<string, object> values) => _values = values;

    /// <summary>Attributes from name/value pairs; ints become long, floats double, int[] long[].</summary>
    public static OpAttributes Of(params (string Name, object Value)[] pairs)
    {
        var b = ImmutableDictionary.CreateBuilder<string, object>();
        foreach (var (n, v) in pairs) b[n] = Normalize(n, v);
        return new OpAttributes(b.ToImmutable());
    }

    /// <summary>A copy with <paramref name="name"/> set.</summary>
    public OpAttributes With(string name, object value) => new(_values.SetItem(name, Normalize(name, value)));

    /// <summary>A copy without <paramref name="name"/> (the same attributes when it is absent).</summary>
    public OpAttributes Without(string name) => _values.ContainsKey(name) ? new(_values.Remove(name)) : this;

    /// <summary>Attribute names.</summary>
    public IEnumerable<string> Names => _values.Keys;

    /// <summary>True if the attribute is present.</summary>
    public bool Has(string name) => _values.ContainsKey(name);

    /// <summary>Raw value, or null.</summary>
    public object? Get(string name) => _values.GetValueOrDefault(name);

    /// <summary>An integer attribute.</summary>
    public long GetLong(string name, long? fallback = null) => _values.TryGetValue(name, out var v)
        ? v switch { long l => l, double d when d == Math.Floor(d) => (long)d, _ => throw Wrong(name, "an integer", v) }
        : fallback ?? throw Missing(name);

    /// <summary>An integer attribute as int.</summary>
    public int GetInt(string name, int? fallback = null)
    {
        var x = GetLong(name, fallback);
        return x is >= int.MinValue and <= int.MaxValue ? (int)x : throw new AttributeException($"attribute '{name}' holds {x}, outside the 32-bit range.");
    }

    /// <summary>A float attribute.</summary>
    public double GetDouble(string name, double? fallback = null) => _values.TryGetValue(name, out var v)
        ? v switch { double d => d, long l => l, _ => throw Wrong(name, "a number", v) }
        : fallback ?? throw Missing(name);

    /// <summary>A string attribute.</summary>
    public string GetString(string name, string? fallback = null) => _values.TryGetValue(name, out var v)
        ? v as string ?? throw Wrong(name, "a string", v)
        : fallback ?? throw Missing(name);

    /// <summary>An integer-list attribute.</summary>
    public long[] GetLongs(string name, long[]? fallback = null) => _values.TryGetValue(name, out var v)
        ? v as long[] ?? throw Wrong(name, "a list of integers", v)
        : fallback ?? throw Missing(name);

    /// <summary>An integer-list attribute as int[].</summary>
    public int[] GetInts(string name, int[]? fallback = null) =>
        Has(name)
            ? Array.ConvertAll(GetLongs(name), x => x is >= int.MinValue and <= int.MaxValue ? (int)x : throw new AttributeException($"attribute '{name}' holds {x}, outside the 32-bit range."))
            : fallback ?? throw Missing(name);

    /// <summary>A tensor attribute.</summary>
    public Tensor GetTensor(string name) => _values.TryGetValue(name, out var v)
        ? v as Tensor ?? throw Wrong(name, "a tensor", v)
        : throw Missing(name);

    /// <inheritdoc />
    public override string ToString() =>
        string.Join(", ", _values.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={Format(p.Value)}"));

    private static string Format(object v) => v switch
    {
        long[] a => $"[{string.Join(",", a)}]",
        double[] a => $"[{string.Join(",", a.Select(x => x.ToString(CultureInfo.InvariantCulture)))}]",
        double d => d.ToString(CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    private static object Normalize(string name, object v) => v switch
    {
        int i => (long)i,
        bool b => b ? 1L : 0L,
        float f => (double)f,
        int[] a => Array.ConvertAll(a, x => (long)x),
        float[] a => Array.ConvertAll(a, x => (double)x),
        long or double or string or long[] or double[] or Tensor => v,
        _ => throw new AttributeException($"Attribute '{name}' has unsupported type {v.GetType().Name}."),
    };

    private static AttributeException Missing(string name) => new($"Required attribute '{name}' is missing.");

    private static AttributeException Wrong(string name, string what, object v) =>
        new($"Attribute '{name}' must be {what}, got {v.GetType().Name}.");
}
