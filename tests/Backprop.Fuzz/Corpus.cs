using Backprop.Onnx;

namespace Backprop.Fuzz;

/// <summary>A seed model and the inputs it ran on (from its test data), if any.</summary>
/// <param name="Name">Where it came from.</param>
/// <param name="Bytes">The serialized model.</param>
/// <param name="Inputs">Serialized input TensorProtos in graph-input order.</param>
public sealed record Seed(string Name, byte[] Bytes, byte[][] Inputs);

/// <summary>Seed corpora: the ONNX backend node tests, Debian's libonnx-testdata, the repository's own fixtures.</summary>
public static class Corpus
{
    /// <summary>Every model.onnx under <paramref name="roots"/> (one level of test folders) plus .onnx files directly inside.</summary>
    public static List<Seed> Load(IEnumerable<string> roots, int max = int.MaxValue)
    {
        var seeds = new List<Seed>();
        foreach (var root in roots.Where(Directory.Exists))
        {
            foreach (var file in Directory.GetFiles(root, "*.onnx").Order(StringComparer.Ordinal))
                seeds.Add(new Seed(file, File.ReadAllBytes(file), []));
            foreach (var dir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
            {
                var model = Path.Combine(dir, "model.onnx");
                if (!File.Exists(model) || new FileInfo(model).Length > 1 << 20) continue;
                var data = Path.Combine(dir, "test_data_set_0");
                var inputs = Directory.Exists(data)
                    ? Directory.GetFiles(data, "input_*.pb").OrderBy(f => int.Parse(Path.GetFileNameWithoutExtension(f)["input_".Length..], System.Globalization.CultureInfo.InvariantCulture)).Select(File.ReadAllBytes).ToArray()
                    : [];
                seeds.Add(new Seed(dir, File.ReadAllBytes(model), inputs));
                if (seeds.Count >= max) return seeds;
            }
        }
        return seeds;
    }

    /// <summary>The default roots for this repository checkout.</summary>
    public static string[] DefaultRoots(string repoRoot) =>
    [
        Path.Combine(repoRoot, "..", "shared", "onnx-backend-v1.22", "node"),
        "/usr/share/libonnx-testdata/data/node",
        Path.Combine(repoRoot, "tests", "fixtures", "training"),
        Path.Combine(repoRoot, "tests", "fixtures", "fuzz", "regressions"),
    ];
}
