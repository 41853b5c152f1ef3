using System.Reflection;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Backprop.Onnx.Tests;

/// <summary>Real models fetched from their registries at restore, run by Backprop and by ONNX Runtime 1.31 on the same inputs.</summary>
public class RealModelTests
{
    private const double Tolerance = 1e-4;

    private static string Package(string key) =>
        typeof(RealModelTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value ?? "";

    /// <summary>A smooth synthetic image (gradients and rings, ImageNet-normalised range) — realistic statistics, no file needed.</summary>
    private static float[] Image(int batch, int channels, int h, int w, int seed)
    {
        var rng = new Random(seed);
        var values = new float[batch * channels * h * w];
        for (var n = 0; n < batch; n++)
        for (var c = 0; c < channels; c++)
        {
            var (fx, fy, phase) = (rng.NextDouble() * 0.1, rng.NextDouble() * 0.1, rng.NextDouble() * 6);
            for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
                values[((n * channels + c) * h + y) * w + x] = (float)(1.5 * Math.Sin(fx * x + fy * y + phase) + 0.3 * (rng.NextDouble() - 0.5));
        }
        return values;
    }

    [SkippableFact]
    public void ResNet18_from_NuGet_matches_onnx_runtime()
    {
        var path = Path.Combine(Package("ResNet18Package"), "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
        Skip.IfNot(File.Exists(path), "Microsoft.ML.DnnImageFeaturizer.ResNet18 was not restored");
        var model = OnnxModel.Load(path);
        var input = model.Inputs.Single();
        var image = Image(1, 3, 224, 224, seed: 3);
        using var session = new InferenceSession(path, new SessionOptions { IntraOpNumThreads = 2 });
        using var expected = session.Run([NamedOnnxValue.CreateFromTensor(input.Name, new DenseTensor<float>(image, [1, 3, 224, 224]))]);
        Dictionary<string, Tensor> actual;
        using (Backprop.Runtime.GradMode.NoGrad()) actual = model.Run(new Dictionary<string, Tensor> { [input.Name] = Tensor.FromArray(image, 1, 3, 224, 224) });
        var want = expected.Single().AsTensor<float>().ToArray();
        var got = actual[model.Outputs.Single().Name].ToFloatArray();
        Assert.Equal(want.Length, got.Length);
        var scale = want.Max(v => Math.Abs(v));
        Assert.True(scale > 1e-3, "the features should not be trivially zero");
        for (var i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - got[i]) <= Tolerance * scale, $"feature {i}: {got[i]} vs ONNX Runtime {want[i]} (scale {scale})");
    }
}
