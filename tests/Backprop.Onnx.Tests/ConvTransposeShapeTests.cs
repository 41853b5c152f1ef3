using Backprop.Onnx.Proto;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static Backprop.Onnx.Tests.TestData;

namespace Backprop.Onnx.Tests;

/// <summary>
/// ConvTranspose whose pads come from output_shape or auto_pad, against ONNX Runtime: an odd total pad split as the spec
/// says, and an output larger than the natural size (zeros, plus the bias, at the end).
/// </summary>
public class ConvTransposeShapeTests
{
    private static ModelProto Model(long[]? outputShape, string? autoPad)
    {
        var rng = new Random(8);
        float[] U(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var g = new GraphProto { Name = "convtranspose-shape" };
        g.Input.Add(Value("x", TensorProto.Types.DataType.Float, 1, 2, 3, 4));
        g.Output.Add(new ValueInfoProto { Name = "y" });
        g.Initializer.Add(FloatTensor("w", U(2 * 3 * 3 * 3), 2, 3, 3, 3));
        g.Initializer.Add(FloatTensor("b", U(3), 3));
        var attributes = new List<AttributeProto> { Ints("strides", 3, 2) };
        if (outputShape is not null) attributes.Add(Ints("output_shape", outputShape));
        if (autoPad is not null) attributes.Add(new() { Name = "auto_pad", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(autoPad) });
        g.Node.Add(Node("ConvTranspose", ["x", "w", "b"], ["y"], "up", [.. attributes]));
        return TestData.Model(g, opset: 17);
    }

    [Theory]
    [InlineData(new long[] { 11, 10 }, null)]    // natural 9 × 9: two more rows, one more column (less than the strides), zeros and bias at the end
    [InlineData(new long[] { 8, 8 }, null)]      // one less row (odd total: the extra pad at the start), one less column
    [InlineData(null, "SAME_UPPER")]             // output 9 × 8 from the strides: the odd pad at the end
    [InlineData(null, "SAME_LOWER")]
    public void Matches_onnx_runtime(long[]? outputShape, string? autoPad)
    {
        var proto = Model(outputShape, autoPad);
        var x = Enumerable.Range(0, 24).Select(i => (float)Math.Sin(i)).ToArray();
        var ours = OnnxModel.FromProto(proto).Run(new Dictionary<string, Tensor> { ["x"] = new Tensor(x, new Shape(1, 2, 3, 4)) })["y"];
        using var session = new InferenceSession(proto.ToByteArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, [1, 2, 3, 4]))]);
        var theirs = results.Single().AsTensor<float>();
        Assert.Equal(theirs.Dimensions.ToArray(), ours.Shape.ToArray());
        var (a, b) = (ours.ToFloatArray(), theirs.ToArray());
        for (var i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1e-5, $"element {i}: ours {a[i]}, ONNX Runtime {b[i]}");
    }

    [Fact]
    public void The_bias_gradient_counts_the_extended_outputs()
    {
        var model = OnnxModel.FromProto(Model([11, 10], null));
        var seed = Tensor.Uniform(new Shape(1, 3, 11, 10), new Random(9));
        var grads = ModelCalculus.Grad(model, new Dictionary<string, Tensor> { ["x"] = Tensor.Uniform(new Shape(1, 2, 3, 4), new Random(10)) },
            new Dictionary<string, Tensor> { ["y"] = seed });
        var s = seed.ToDoubleArray();
        for (var m = 0; m < 3; m++) Assert.Equal(s.Skip(m * 110).Take(110).Sum(), grads["b"].GetAsDouble(m), 4);
    }
}
