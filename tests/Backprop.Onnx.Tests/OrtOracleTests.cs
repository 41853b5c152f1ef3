using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Backprop.Onnx.Tests;

/// <summary>Forward outputs of real architectures against ONNX Runtime 1.31 on the same seeded inputs.</summary>
public class OrtOracleTests
{
    private const double Tolerance = 1e-4;

    private const string Absent = "(ONNX 1.22 light models absent)";

    private static string LightDir => Path.GetFullPath(Path.Combine(TestData.RepoRoot, "..", "shared", "onnx-backend-v1.22", "light"));

    public static TheoryData<string> LightModels()
    {
        var data = new TheoryData<string>();
        if (Directory.Exists(LightDir))
            foreach (var f in Directory.GetFiles(LightDir, "*.onnx").Order(StringComparer.Ordinal)) data.Add(Path.GetFileName(f));
        if (data.Count == 0) data.Add(Absent);
        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(LightModels))]
    public void Light_model_matches_onnx_runtime(string file)
    {
        Skip.If(file == Absent, "the ONNX 1.22 backend data (../shared/onnx-backend-v1.22/light) is not on this machine");
        var path = Path.Combine(LightDir, file);
        using var session = new InferenceSession(path, new SessionOptions { IntraOpNumThreads = 2 });
        var rng = new Random(17);
        var ortInputs = new List<NamedOnnxValue>();
        var ours = new Dictionary<string, Tensor>();
        foreach (var (name, meta) in session.InputMetadata)
        {
            var dims = meta.Dimensions.Select(d => d <= 0 ? 1 : d).ToArray();
            var values = new float[dims.Aggregate(1, (a, b) => a * b)];
            for (var i = 0; i < values.Length; i++) values[i] = (float)(rng.NextDouble() * 2 - 1);
            ortInputs.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(values, dims)));
            ours[name] = Tensor.FromArray(values, dims);
        }
        using var expected = session.Run(ortInputs);
        var model = OnnxModel.Load(path);
        Dictionary<string, Tensor> actual;
        using (Backprop.Runtime.GradMode.NoGrad()) actual = model.Run(ours);
        foreach (var e in expected)
        {
            var want = e.AsTensor<float>().ToArray();
            var got = actual[e.Name].ToFloatArray();
            Assert.Equal(want.Length, got.Length);
            var scale = Math.Max(1e-6, want.Select(v => Math.Abs((double)v)).Max());
            for (var i = 0; i < want.Length; i++)
                Assert.True(Math.Abs(want[i] - got[i]) <= Tolerance * scale, $"{file} output {e.Name}[{i}]: {got[i]} vs ONNX Runtime {want[i]} (scale {scale})");
        }
    }
}
