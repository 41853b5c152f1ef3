using Backprop.Onnx.Proto;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static Backprop.Onnx.Tests.TestData;

namespace Backprop.Onnx.Tests;

/// <summary>
/// Cast to float16 or bfloat16 and back: the runtime holds the values in float32 but rounds them to the target's precision,
/// as ONNX Runtime computes them, and the gradient passes straight through the two casts.
/// </summary>
public class HalfPrecisionCastTests
{
    private static ModelProto RoundTrip(TensorProto.Types.DataType through)
    {
        AttributeProto To(TensorProto.Types.DataType t) => Int("to", (long)t);
        var g = new GraphProto { Name = "cast-round-trip" };
        g.Input.Add(Value("x", TensorProto.Types.DataType.Float, 8));
        g.Output.Add(Value("y", TensorProto.Types.DataType.Float, 8));
        g.Node.Add(Node("Cast", ["x"], ["h"], "down", To(through)));
        g.Node.Add(Node("Cast", ["h"], ["y"], "up", To(TensorProto.Types.DataType.Float)));
        return Model(g, opset: 17);
    }

    [Theory]
    [InlineData(TensorProto.Types.DataType.Float16)]
    [InlineData(TensorProto.Types.DataType.Bfloat16)]
    public void Values_are_rounded_as_onnx_runtime_rounds_them(TensorProto.Types.DataType through)
    {
        // Ties, values between representable ones, float16's overflow to ∞ (1e5), ±∞, a subnormal float16 and NaN.
        float[] x = [0.48033667f, 1.0009766f, 3.14159265f, -2049.5f, 1e5f, float.NegativeInfinity, 3e-6f, float.NaN];
        var proto = RoundTrip(through);
        var ours = OnnxModel.FromProto(proto).Run(new Dictionary<string, Tensor> { ["x"] = new Tensor(x, new Shape(8)) })["y"].ToFloatArray();
        using var session = new InferenceSession(proto.ToByteArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, [8]))]);
        var theirs = results.Single().AsTensor<float>().ToArray();
        for (var i = 0; i < x.Length; i++)
            Assert.True(ours[i].Equals(theirs[i]), $"{through}: x = {x[i]}: ours {ours[i]}, ONNX Runtime {theirs[i]}");
        Assert.NotEqual(x[0], ours[0]); // the rounding happened
    }

    [Fact]
    public void The_gradient_passes_straight_through()
    {
        var model = OnnxModel.FromProto(RoundTrip(TensorProto.Types.DataType.Float16));
        var x = Tensor.Uniform(new Shape(8), new Random(3));
        var seed = Tensor.Uniform(new Shape(8), new Random(4));
        var grads = ModelCalculus.Grad(model, new Dictionary<string, Tensor> { ["x"] = x }, new Dictionary<string, Tensor> { ["y"] = seed });
        Assert.Equal(seed.ToFloatArray(), grads["x"].ToFloatArray());
    }
}
