using Backprop.Training;
using SkiaSharp;

namespace Backprop.Data;

/// <summary>
/// Images in one sub-folder per class (sorted by name; label = position), decoded with SkiaSharp when a batch needs them,
/// resized to <see cref="Size"/>×<see cref="Size"/>, and normalised per channel: (pixel/255 − mean) / std, as NCHW float32.
/// </summary>
public sealed class ImageFolder : IDataset
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];
    private readonly (string Path, long Label)[] _items;

    /// <summary>Lists <paramref name="root"/>; a folder with no class sub-folders or no images is an error.</summary>
    public ImageFolder(string root, int size = 224, float[]? mean = null, float[]? std = null)
    {
        if (!Directory.Exists(root)) throw new DataFormatException($"image folder '{root}' does not exist.");
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        var classes = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        if (classes.Length == 0) throw new DataFormatException($"'{root}' has no class sub-folders (expected one folder per class).");
        _items = classes.SelectMany((c, label) => Directory.GetFiles(Path.Combine(root, c))
            .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal).Select(f => (f, (long)label))).ToArray();
        if (_items.Length == 0) throw new DataFormatException($"'{root}' has class folders but no images ({string.Join(", ", Extensions)}).");
        (ClassNames, Size, Mean, Std) = (classes, size, mean ?? [0.485f, 0.456f, 0.406f], std ?? [0.229f, 0.224f, 0.225f]);
    }

    /// <summary>Side length images are resized to.</summary>
    public int Size { get; }

    /// <summary>Per-channel mean (RGB) subtracted after scaling to [0, 1].</summary>
    public float[] Mean { get; }

    /// <summary>Per-channel standard deviation (RGB).</summary>
    public float[] Std { get; }

    /// <inheritdoc />
    public int Count => _items.Length;

    /// <inheritdoc />
    public IReadOnlyList<string>? ClassNames { get; }

    /// <inheritdoc />
    public long ClassOf(int index) => _items[index].Label;

    /// <inheritdoc />
    public (Tensor Inputs, Tensor Targets) Batch(ReadOnlySpan<int> indices)
    {
        var plane = Size * Size;
        var pixels = new float[indices.Length * 3 * plane];
        var labels = new long[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            var (path, label) = _items[indices[i]];
            labels[i] = label;
            Decode(path, pixels.AsSpan(i * 3 * plane, 3 * plane));
        }
        return (new Tensor(pixels, new Shape(indices.Length, 3, Size, Size)), new Tensor(labels, new Shape(indices.Length)));
    }

    private void Decode(string path, Span<float> chw)
    {
        using var original = SKBitmap.Decode(path) ?? throw new DataFormatException($"'{path}' could not be decoded as an image.");
        using var resized = original.Resize(new SKImageInfo(Size, Size, SKColorType.Rgba8888, SKAlphaType.Unpremul), new SKSamplingOptions(SKFilterMode.Linear))
            ?? throw new DataFormatException($"'{path}' could not be resized to {Size}×{Size}.");
        var plane = Size * Size;
        for (var y = 0; y < Size; y++)
        for (var x = 0; x < Size; x++)
        {
            var c = resized.GetPixel(x, y);
            var k = y * Size + x;
            chw[k] = (c.Red / 255f - Mean[0]) / Std[0];
            chw[plane + k] = (c.Green / 255f - Mean[1]) / Std[1];
            chw[2 * plane + k] = (c.Blue / 255f - Mean[2]) / Std[2];
        }
    }
}
