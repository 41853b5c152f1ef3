namespace Backprop.Training;

/// <summary>Indexed samples that can be gathered into batches: inputs [B, …] and targets [B] (int64 classes) or [B, …] (float).</summary>
public interface IDataset
{
    /// <summary>Number of samples.</summary>
    int Count { get; }

    /// <summary>Class names for classification data (index = label), or null.</summary>
    IReadOnlyList<string>? ClassNames { get; }

    /// <summary>The samples at <paramref name="indices"/> stacked along a new first axis.</summary>
    (Tensor Inputs, Tensor Targets) Batch(ReadOnlySpan<int> indices);

    /// <summary>The class label of sample <paramref name="index"/> without loading its input (used for stratified splits).</summary>
    long ClassOf(int index) => (long)Batch([index]).Targets.Item();
}

/// <summary>A dataset held in two tensors whose first axis indexes samples.</summary>
public sealed class TensorDataset : IDataset
{
    /// <summary>Wraps <paramref name="inputs"/> [N, …] and <paramref name="targets"/> [N, …].</summary>
    public TensorDataset(Tensor inputs, Tensor targets, IReadOnlyList<string>? classNames = null)
    {
        if (inputs.Rank < 1 || targets.Rank < 1 || inputs.Shape[0] != targets.Shape[0])
            throw new ShapeException($"inputs {inputs.Shape} and targets {targets.Shape} must have the same number of samples along their first axis.");
        (Inputs, Targets, ClassNames) = (inputs, targets, classNames);
    }

    /// <summary>All inputs.</summary>
    public Tensor Inputs { get; }

    /// <summary>All targets.</summary>
    public Tensor Targets { get; }

    /// <inheritdoc />
    public int Count => Inputs.Shape[0];

    /// <inheritdoc />
    public IReadOnlyList<string>? ClassNames { get; }

    /// <inheritdoc />
    public (Tensor Inputs, Tensor Targets) Batch(ReadOnlySpan<int> indices) => (Rows(Inputs, indices), Rows(Targets, indices));

    /// <summary>Rows <paramref name="indices"/> of <paramref name="t"/> (first axis) as a new tensor.</summary>
    public static Tensor Rows(Tensor t, ReadOnlySpan<int> indices)
    {
        var dims = t.Shape.ToArray();
        var n = dims[0];
        dims[0] = indices.Length;
        var result = Tensor.Empty(new Shape(dims), t.DType);
        var row = n == 0 ? 0 : t.Size / n;
        for (var i = 0; i < indices.Length; i++)
        {
            if ((uint)indices[i] >= (uint)n) throw new ArgumentOutOfRangeException(nameof(indices), indices[i], $"sample index outside [0, {n}).");
            switch (t.DType)
            {
                case DType.Float32: t.Span<float>().Slice(indices[i] * row, row).CopyTo(result.Span<float>().Slice(i * row, row)); break;
                case DType.Float64: t.Span<double>().Slice(indices[i] * row, row).CopyTo(result.Span<double>().Slice(i * row, row)); break;
                case DType.Int64: t.Span<long>().Slice(indices[i] * row, row).CopyTo(result.Span<long>().Slice(i * row, row)); break;
                default: t.Span<bool>().Slice(indices[i] * row, row).CopyTo(result.Span<bool>().Slice(i * row, row)); break;
            }
        }
        return result;
    }
}

/// <summary>A view of some samples of another dataset.</summary>
public sealed class Subset(IDataset source, int[] indices) : IDataset
{
    /// <summary>The indices into the source.</summary>
    public IReadOnlyList<int> Indices => indices;

    /// <inheritdoc />
    public int Count => indices.Length;

    /// <inheritdoc />
    public IReadOnlyList<string>? ClassNames => source.ClassNames;

    /// <inheritdoc />
    public long ClassOf(int index) => source.ClassOf(indices[index]);

    /// <inheritdoc />
    public (Tensor Inputs, Tensor Targets) Batch(ReadOnlySpan<int> batch)
    {
        var mapped = new int[batch.Length];
        for (var i = 0; i < batch.Length; i++) mapped[i] = indices[batch[i]];
        return source.Batch(mapped);
    }
}

/// <summary>Batching, shuffling and splitting.</summary>
public static class DataLoader
{
    /// <summary>
    /// Batches of <paramref name="batchSize"/> in a random order drawn from <paramref name="shuffle"/> (null: in order). The
    /// last batch may be smaller unless <paramref name="dropLast"/>.
    /// </summary>
    public static IEnumerable<(Tensor Inputs, Tensor Targets)> Batches(IDataset data, int batchSize, TrainingRandom? shuffle = null, bool dropLast = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var order = Enumerable.Range(0, data.Count).ToArray();
        shuffle?.ShuffleInPlace(order.AsSpan());
        return Iterate(data, order, batchSize, dropLast);
    }

    /// <summary>Number of batches <see cref="Batches"/> yields.</summary>
    public static int BatchCount(IDataset data, int batchSize, bool dropLast = false) =>
        dropLast ? data.Count / batchSize : (data.Count + batchSize - 1) / batchSize;

    /// <summary>
    /// A seeded split into training and validation parts; with class names, stratified so each class keeps its proportion.
    /// </summary>
    public static (Subset Train, Subset Validation) Split(IDataset data, double validationFraction, ulong seed)
    {
        if (validationFraction is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "the validation fraction must lie in [0, 1).");
        var rng = new TrainingRandom(seed);
        var groups = data.ClassNames is null
            ? [Enumerable.Range(0, data.Count).ToArray()]
            : Enumerable.Range(0, data.Count).GroupBy(data.ClassOf).OrderBy(g => g.Key).Select(g => g.ToArray()).ToList();
        var train = new List<int>();
        var validation = new List<int>();
        foreach (var g in groups)
        {
            rng.ShuffleInPlace(g.AsSpan());
            var v = (int)Math.Round(g.Length * validationFraction);
            validation.AddRange(g.Take(v));
            train.AddRange(g.Skip(v));
        }
        train.Sort();
        validation.Sort();
        return (new Subset(data, train.ToArray()), new Subset(data, validation.ToArray()));
    }

    private static IEnumerable<(Tensor, Tensor)> Iterate(IDataset data, int[] order, int batchSize, bool dropLast)
    {
        for (var start = 0; start < order.Length; start += batchSize)
        {
            var n = Math.Min(batchSize, order.Length - start);
            if (dropLast && n < batchSize) yield break;
            yield return data.Batch(order.AsSpan(start, n));
        }
    }
}
