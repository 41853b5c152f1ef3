using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Backprop.Onnx.Tests;

/// <summary>Models shipped in npm packages (fetched by .ci/fetch-models.sh) against ONNX Runtime: forward and a directional derivative.</summary>
public class NpmModelTests
{
    public static TheoryData<string> Models() => ["openwakeword-js/package/models/hello_deepa.onnx"];

    [SkippableTheory]
    [MemberData(nameof(Models))]
    public void Forward_and_gradient_match_onnx_runtime(string relative)
    {
        var path = Path.Combine(TestData.RepoRoot, "artifacts", "models", relative);
        Skip.IfNot(File.Exists(path), $"{relative} was not fetched (run .ci/fetch-models.sh)");
        var model = OnnxModel.Load(path);
        using var session = new InferenceSession(path, new SessionOptions { IntraOpNumThreads = 2 });
        var input = model.Inputs.Single();
        var dims = input.Dims!.Select(d => (int)(d ?? 1)).ToArray();
        var rng = new Random(9);
        var x = Tensor.Normal(new Shape(dims), rng);
        var v = Tensor.Normal(new Shape(dims), rng);
        float[] Ort(Tensor t)
        {
            using var r = session.Run([NamedOnnxValue.CreateFromTensor(input.Name, new DenseTensor<float>(t.ToFloatArray(), dims))]);
            return r.First().AsTensor<float>().ToArray();
        }
        var want = Ort(x);
        Dictionary<string, Tensor> ours;
        using (Backprop.Runtime.GradMode.NoGrad()) ours = model.Run(new Dictionary<string, Tensor> { [input.Name] = x });
        var output = model.Outputs.First().Name;
        var got = ours[output].ToFloatArray();
        var scale = Math.Max(1e-6, want.Max(a => Math.Abs(a)));
        for (var i = 0; i < want.Length; i++) Assert.True(Math.Abs(want[i] - got[i]) <= 1e-4 * scale, $"{output}[{i}]: {got[i]} vs ONNX Runtime {want[i]}");

        // ⟨∇ₓ Σ output, v⟩ against ONNX Runtime central differences (float32; tolerance from the spread of three steps).
        var seed = Tensor.Ones(ours[output].Shape);
        var grad = ModelCalculus.Grad(model, new Dictionary<string, Tensor> { [input.Name] = x }, new Dictionary<string, Tensor> { [output] = seed })[input.Name];
        var analytic = grad.ToDoubleArray().Zip(v.ToDoubleArray(), (a, b) => a * b).Sum();
        var estimates = new[] { 1e-1, 3e-2, 1e-2 }.Select(h => (Ort(x + v * h).Sum() - Ort(x - v * h).Sum()) / (2 * h)).ToArray();
        var spread = estimates.Max() - estimates.Min();
        Assert.True(Math.Abs(analytic - estimates[1]) <= 3 * spread + 2e-3 * Math.Max(1e-3, Math.Abs(estimates[1])),
            $"⟨grad, v⟩ = {analytic}; ONNX Runtime finite differences {string.Join(", ", estimates)}");
    }
}
