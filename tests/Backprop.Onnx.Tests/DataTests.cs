using Backprop.Data;
using Backprop.Training;
using SkiaSharp;

namespace Backprop.Onnx.Tests;

/// <summary>Data loading: NumPy files written by NumPy itself, CSV, image folders, splits and batching.</summary>
public class DataTests
{
    [Fact]
    public void Npz_written_by_numpy_reads_with_its_shapes_dtypes_and_values()
    {
        // tests/fixtures/training/bn2d.npz was written by numpy.savez (generate_training.py)
        var arrays = Npy.LoadArchive(Path.Combine(TestData.RepoRoot, "tests", "fixtures", "training", "bn2d.npz"));
        Assert.Equal(new Shape(4, 3, 5, 5), arrays["x"].Shape);
        Assert.Equal(DType.Float32, arrays["x"].DType);
        Assert.Equal(new Shape(3), arrays["running_var"].Shape);
        Assert.All(arrays["running_var"].ToFloatArray(), v => Assert.True(v > 0));
        var optim = Npy.LoadArchive(Path.Combine(TestData.RepoRoot, "tests", "fixtures", "training", "optim.npz"));
        Assert.Equal(DType.Int64, optim["y"].DType);
        Assert.Equal([0L, 1, 2, 1, 0, 2, 2, 1], optim["y"].ToInt64Array());
    }

    [Fact]
    public void Npy_round_trips_and_rejects_damaged_files_with_the_file_named()
    {
        var dir = TestData.Temp();
        var path = Path.Combine(dir, "a.npy");
        var t = Tensor.FromArray([1.5f, -2, 3, 4, 5, 6], 2, 3);
        Npy.Save(path, t);
        var back = Npy.Load(path);
        Assert.Equal(t.Shape, back.Shape);
        Assert.Equal(t.ToFloatArray(), back.ToFloatArray());
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^5]);
        var e = Assert.Throws<DataFormatException>(() => Npy.Load(path));
        Assert.Contains("a.npy", e.Message);
        File.WriteAllText(path, "not numpy");
        Assert.Throws<DataFormatException>(() => Npy.Load(path));
    }

    [Fact]
    public void Csv_with_header_and_named_target_column_becomes_features_and_labels()
    {
        var path = Path.Combine(TestData.Temp(), "d.csv");
        File.WriteAllText(path, "a,label,b\n1,0,2\n3,1,4\n5,2,6\n");
        var d = Datasets.FromCsv(path, "label");
        Assert.Equal(new Shape(3, 2), d.Inputs.Shape);
        Assert.Equal([1f, 2, 3, 4, 5, 6], d.Inputs.ToFloatArray());
        Assert.Equal([0L, 1, 2], d.Targets.ToInt64Array());
        Assert.Equal(3, d.ClassNames!.Count);
        File.WriteAllText(path, "1,2,0\n3,x,1\n");
        var e = Assert.Throws<DataFormatException>(() => Datasets.FromCsv(path));
        Assert.Contains("line 2, column 2", e.Message);
    }

    [Fact]
    public void Image_folder_decodes_resizes_and_normalises_per_class_folder()
    {
        var root = TestData.Temp();
        foreach (var (cls, color) in new[] { ("blue", SKColors.Blue), ("red", SKColors.Red) })
        {
            Directory.CreateDirectory(Path.Combine(root, cls));
            for (var i = 0; i < 3; i++)
            {
                using var bmp = new SKBitmap(20, 10);
                bmp.Erase(color);
                using var data = bmp.Encode(SKEncodedImageFormat.Png, 100);
                File.WriteAllBytes(Path.Combine(root, cls, $"{i}.png"), data.ToArray());
            }
        }
        File.WriteAllText(Path.Combine(root, "red", "notes.txt"), "ignored");
        var folder = new ImageFolder(root, size: 8, mean: [0, 0, 0], std: [1, 1, 1]);
        Assert.Equal(["blue", "red"], folder.ClassNames);
        Assert.Equal(6, folder.Count);
        var (x, y) = folder.Batch([0, 5]);
        Assert.Equal(new Shape(2, 3, 8, 8), x.Shape);
        Assert.Equal([0L, 1], y.ToInt64Array());
        var v = x.ToFloatArray();
        Assert.Equal(1f, v[2 * 64], 3); // sample 0 (blue): blue channel 1
        Assert.Equal(0f, v[0], 3); // sample 0: red channel 0
        Assert.Equal(1f, v[3 * 64], 3); // sample 1 (red): red channel 1
        File.WriteAllText(Path.Combine(root, "red", "broken.png"), "not a png");
        var broken = new ImageFolder(root, size: 8);
        Assert.Throws<DataFormatException>(() => broken.Batch([broken.Count - 1]));
    }

    [Fact]
    public void Split_is_stratified_disjoint_and_seeded_and_batches_cover_every_sample_once()
    {
        var data = new SyntheticShapes(40, size: 16);
        var (train, validation) = DataLoader.Split(data, 0.2, seed: 3);
        Assert.Equal(32, train.Count);
        Assert.Equal(8, validation.Count);
        Assert.Empty(train.Indices.Intersect(validation.Indices));
        Assert.All(Enumerable.Range(0, 4), c => Assert.Equal(2, validation.Indices.Count(i => data.ClassOf(i) == c)));
        Assert.Equal(validation.Indices, DataLoader.Split(data, 0.2, seed: 3).Validation.Indices);
        Assert.NotEqual(validation.Indices, DataLoader.Split(data, 0.2, seed: 4).Validation.Indices);
        var seen = DataLoader.Batches(train, 7, new TrainingRandom(1)).SelectMany(b => b.Targets.ToInt64Array()).ToList();
        Assert.Equal(32, seen.Count);
        Assert.Equal(train.Indices.Select(i => data.ClassOf(i)).Order(), seen.Order());
    }
}
