using Backprop.Training;

namespace Backprop.Data;

/// <summary>
/// Procedurally rendered images of four shape classes — circle, square, triangle, cross — with random size, position,
/// rotation, colours, background gradient and pixel noise. Sample i is a pure function of (seed, i), so a dataset needs no
/// files and is the same on every machine. Pixels are normalised like <see cref="ImageFolder"/> (ImageNet mean and std).
/// </summary>
public sealed class SyntheticShapes : IDataset
{
    private static readonly string[] Names = ["circle", "square", "triangle", "cross"];
    private readonly ulong _seed;

    /// <summary>
    /// <paramref name="count"/> images of <paramref name="size"/>² pixels, classes balanced (label = index mod 4), normalised as
    /// (pixel/255 − mean)/std per RGB channel (default: ImageNet's mean and std).
    /// </summary>
    public SyntheticShapes(int count, int size = 224, ulong seed = 1, float[]? mean = null, float[]? std = null)
    {
        Mean = mean ?? [0.485f, 0.456f, 0.406f];
        Std = std ?? [0.229f, 0.224f, 0.225f];
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 16);
        (Count, Size, _seed) = (count, size, seed);
    }

    /// <summary>Per-channel mean.</summary>
    public float[] Mean { get; }

    /// <summary>Per-channel standard deviation.</summary>
    public float[] Std { get; }

    /// <summary>Side length in pixels.</summary>
    public int Size { get; }

    /// <inheritdoc />
    public int Count { get; }

    /// <inheritdoc />
    public IReadOnlyList<string>? ClassNames => Names;

    /// <inheritdoc />
    public long ClassOf(int index) => index % Names.Length;

    /// <inheritdoc />
    public (Tensor Inputs, Tensor Targets) Batch(ReadOnlySpan<int> indices)
    {
        var plane = Size * Size;
        var pixels = new float[indices.Length * 3 * plane];
        var labels = new long[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            if ((uint)indices[i] >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), indices[i], $"sample index outside [0, {Count}).");
            labels[i] = ClassOf(indices[i]);
            Render(indices[i], (int)labels[i], pixels.AsSpan(i * 3 * plane, 3 * plane));
        }
        return (new Tensor(pixels, new Shape(indices.Length, 3, Size, Size)), new Tensor(labels, new Shape(indices.Length)));
    }

    private void Render(int index, int shape, Span<float> chw)
    {
        var rng = new TrainingRandom(_seed * 0x9E3779B97F4A7C15UL + (ulong)index);
        var s = Size;
        var radius = s * (0.18 + 0.17 * rng.NextDouble());
        var cx = radius + (s - 2 * radius) * rng.NextDouble();
        var cy = radius + (s - 2 * radius) * rng.NextDouble();
        var angle = rng.NextDouble() * Math.PI * 2;
        var (cos, sin) = (Math.Cos(angle), Math.Sin(angle));
        var bg0 = Color(rng);
        var bg1 = Color(rng);
        var fg = Color(rng);
        // keep the shape visible: push its colour away from the background's mean
        for (var c = 0; c < 3; c++)
        {
            if (Math.Abs(fg[c] - (bg0[c] + bg1[c]) / 2) < 0.3) fg[c] = (bg0[c] + bg1[c]) / 2 > 0.5 ? fg[c] * 0.3 : 0.7 + fg[c] * 0.3;
        }
        var plane = s * s;
        for (var y = 0; y < s; y++)
        for (var x = 0; x < s; x++)
        {
            var (dx, dy) = ((x + 0.5 - cx) / radius, (y + 0.5 - cy) / radius);
            var (u, v) = (cos * dx + sin * dy, -sin * dx + cos * dy);
            var inside = shape switch
            {
                0 => u * u + v * v <= 1,
                1 => Math.Abs(u) <= 0.8 && Math.Abs(v) <= 0.8,
                2 => v <= 0.5 && v >= -1 + 1.732 * Math.Abs(u) * 1.0 && v >= -1,
                _ => (Math.Abs(u) <= 0.28 && Math.Abs(v) <= 1) || (Math.Abs(v) <= 0.28 && Math.Abs(u) <= 1),
            };
            var t = (double)(x + y) / (2 * s);
            for (var c = 0; c < 3; c++)
            {
                var value = inside ? fg[c] : bg0[c] * (1 - t) + bg1[c] * t;
                value += (rng.NextDouble() - 0.5) * 0.1;
                chw[c * plane + y * s + x] = (float)((Math.Clamp(value, 0, 1) - Mean[c]) / Std[c]);
            }
        }
    }

    private static double[] Color(Random rng) => [rng.NextDouble(), rng.NextDouble(), rng.NextDouble()];
}
