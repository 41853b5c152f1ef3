using Backprop.Onnx.Proto;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static Backprop.Onnx.Tests.TestData;

namespace Backprop.Onnx.Tests;

/// <summary>
/// 3-D Conv, ConvTranspose, MaxPool and AveragePool (composed from the 2-D ops) against ONNX Runtime: outputs, and ⟨∇L, v⟩ against
/// central differences of ONNX Runtime's forward along a random direction of the input and every initializer.
/// </summary>
public class VolumetricTests
{
    /// <summary>n values drawn uniformly from [−0.5, 0.5), one call after another from <paramref name="rng"/>.</summary>
    private static Func<int, float[]> Uniform(Random rng) => n => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();

    /// <summary>x [1, 2, 6, 6, 6] → Conv (3 filters 3×3×3, strides 2,1,1, dilations 1,1,2, bias) → Tanh → MaxPool 2³ → AveragePool 2³ (pads 1, ceil).</summary>
    private static ModelProto Model()
    {
        var U = Uniform(new Random(11));
        var g = new GraphProto { Name = "volumetric" };
        g.Input.Add(Value("x", TensorProto.Types.DataType.Float, 1, 2, 6, 6, 6));
        g.Output.Add(new ValueInfoProto { Name = "y" });
        g.Initializer.Add(FloatTensor("w", U(3 * 2 * 27), 3, 2, 3, 3, 3));
        g.Initializer.Add(FloatTensor("b", U(3), 3));
        g.Node.Add(Node("Conv", ["x", "w", "b"], ["c"], "conv", Ints("strides", 2, 1, 1), Ints("dilations", 1, 1, 2), Ints("pads", 1, 1, 1, 1, 1, 1)));
        g.Node.Add(Node("Tanh", ["c"], ["t"], "act"));
        g.Node.Add(Node("MaxPool", ["t"], ["m"], "max", Ints("kernel_shape", 2, 2, 2), Ints("strides", 1, 2, 1)));
        g.Node.Add(Node("AveragePool", ["m"], ["y"], "mean", Ints("kernel_shape", 2, 2, 2), Ints("pads", 1, 1, 1, 1, 1, 1),
            Int("ceil_mode", 1)));
        return TestData.Model(g, opset: 17);
    }

    /// <summary>x [1, 2, 3, 4, 3] → ConvTranspose (3 outputs, 2×3×3, strides 2,2,1, pads 1,0,1 / 0,1,0, output_padding 1,0,0, bias).</summary>
    private static ModelProto Transposed()
    {
        var U = Uniform(new Random(15));
        var g = new GraphProto { Name = "volumetric-transposed" };
        g.Input.Add(Value("x", TensorProto.Types.DataType.Float, 1, 2, 3, 4, 3));
        g.Output.Add(new ValueInfoProto { Name = "y" });
        g.Initializer.Add(FloatTensor("w", U(2 * 3 * 18), 2, 3, 2, 3, 3));
        g.Initializer.Add(FloatTensor("b", U(3), 3));
        g.Node.Add(Node("ConvTranspose", ["x", "w", "b"], ["y"], "up", Ints("strides", 2, 2, 1), Ints("pads", 1, 0, 1, 0, 1, 0), Ints("output_padding", 1, 0, 0)));
        return TestData.Model(g, opset: 17);
    }

    private static float[] Ort(ModelProto proto, float[] x, int[] shape)
    {
        using var session = new InferenceSession(proto.ToByteArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, shape))]);
        return results.Single().AsTensor<float>().ToArray();
    }

    [Theory]
    [InlineData(false, new[] { 1, 2, 6, 6, 6 }, new[] { 1, 3, 3, 4, 4 })]
    [InlineData(true, new[] { 1, 2, 3, 4, 3 }, new[] { 1, 3, 6, 8, 4 })]
    public void Outputs_and_gradients_match_onnx_runtime(bool transposed, int[] inShape, int[] outShape)
    {
        var proto = transposed ? Transposed() : Model();
        var model = OnnxModel.FromProto(proto);
        var x = Tensor.Uniform(new Shape(inShape), new Random(12));
        var ours = model.Run(new Dictionary<string, Tensor> { ["x"] = x })["y"];
        Assert.Equal(new Shape(outShape), ours.Shape);
        var theirs = Ort(proto, x.ToFloatArray(), inShape);
        var values = ours.ToFloatArray();
        for (var i = 0; i < values.Length; i++) Assert.True(Math.Abs(values[i] - theirs[i]) <= 1e-5, $"y[{i}]: ours {values[i]}, ONNX Runtime {theirs[i]}");

        var seed = Tensor.Uniform(ours.Shape, new Random(13));
        var grads = ModelCalculus.Grad(model, new Dictionary<string, Tensor> { ["x"] = x }, new Dictionary<string, Tensor> { ["y"] = seed });
        Assert.Equal(["b", "w", "x"], grads.Keys.Order().ToArray());
        var rng = new Random(14);
        var v = grads.ToDictionary(p => p.Key, p => Tensor.Uniform(p.Value.Shape, rng));
        var analytic = grads.Sum(p => p.Value.ToDoubleArray().Zip(v[p.Key].ToDoubleArray(), (a, b) => a * b).Sum());
        var s = seed.ToDoubleArray();
        double L(double h)
        {
            var shifted = proto.Clone();
            foreach (var init in shifted.Graph.Initializer)
            {
                var dir = v[init.Name].ToFloatArray();
                for (var i = 0; i < init.FloatData.Count; i++) init.FloatData[i] += (float)(h * dir[i]);
            }
            var moved = x.ToFloatArray().Zip(v["x"].ToFloatArray(), (a, b) => (float)(a + h * b)).ToArray();
            return Ort(shifted, moved, inShape).Select((value, i) => value * s[i]).Sum();
        }
        AgreesWithCentralDifferences(analytic, L, [2e-2, 1e-2, 5e-3], 2e-3, 1, transposed ? "⟨grad, v⟩ through ConvTranspose in 3-D" : "⟨grad, v⟩ through Conv, MaxPool and AveragePool in 3-D");
    }
}
