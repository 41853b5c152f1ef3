using Backprop.Onnx.Proto;
using Google.Protobuf;
using Backprop.Runtime;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static Backprop.Onnx.Tests.TestData;

namespace Backprop.Onnx.Tests;

/// <summary>
/// Inference runs Conv → BatchNormalization [→ Add] [→ Relu] chains as one fused convolution; ONNX Runtime is the oracle
/// for every kind of chain, including the ones that must not fuse (an inner value is a graph output) or must fall back
/// (a residual that broadcasts).
/// </summary>
public class FusedConvTests
{
    private static float[] Uniform(Random rng, int n, double lo, double hi) => Enumerable.Range(0, n).Select(_ => (float)(lo + (hi - lo) * rng.NextDouble())).ToArray();

    private static ModelProto Blocks()
    {
        var rng = new Random(5);
        var g = new GraphProto { Name = "blocks" };
        g.Input.Add(Value("x", TensorProto.Types.DataType.Float, 2, 3, 32, 32));
        g.Input.Add(Value("shortcut", TensorProto.Types.DataType.Float, 2, 4, 1, 1));
        void Norm(string prefix)
        {
            g.Initializer.Add(FloatTensor(prefix + "_scale", Uniform(rng, 4, 0.5, 1.5), 4));
            g.Initializer.Add(FloatTensor(prefix + "_bias", Uniform(rng, 4, -0.5, 0.5), 4));
            g.Initializer.Add(FloatTensor(prefix + "_mean", Uniform(rng, 4, -0.3, 0.3), 4));
            g.Initializer.Add(FloatTensor(prefix + "_var", Uniform(rng, 4, 0.5, 2), 4));
        }
        NodeProto Bn(string input, string output, string prefix) =>
            Node("BatchNormalization", [input, prefix + "_scale", prefix + "_bias", prefix + "_mean", prefix + "_var"], [output], prefix);
        g.Initializer.Add(FloatTensor("w1", Uniform(rng, 4 * 3 * 9, -0.4, 0.4), 4, 3, 3, 3));
        g.Initializer.Add(FloatTensor("b1", Uniform(rng, 4, -0.5, 0.5), 4));
        foreach (var w in new[] { "w2", "w3", "w4" }) g.Initializer.Add(FloatTensor(w, Uniform(rng, 4 * 4 * 9, -0.3, 0.3), 4, 4, 3, 3));
        foreach (var p in new[] { "n1", "n2", "n3", "n4" }) Norm(p);
        var same = Ints("pads", 1, 1, 1, 1);
        // Conv with bias → BN → Relu.
        g.Node.Add(Node("Conv", ["x", "w1", "b1"], ["c1"], "conv1", same));
        g.Node.Add(Bn("c1", "bn1", "n1"));
        g.Node.Add(Node("Relu", ["bn1"], ["r1"], "relu1"));
        // Conv → BN → Add(residual first) → Relu.
        g.Node.Add(Node("Conv", ["r1", "w2"], ["c2"], "conv2", same));
        g.Node.Add(Bn("c2", "bn2", "n2"));
        g.Node.Add(Node("Add", ["r1", "bn2"], ["a2"], "add2"));
        g.Node.Add(Node("Relu", ["a2"], ["r2"], "relu2"));
        // Stride 2, the convolution's own output also a graph output: must not fuse.
        g.Node.Add(Node("Conv", ["r2", "w3"], ["c3"], "conv3", Ints("strides", 2, 2), same));
        g.Node.Add(Bn("c3", "bn3", "n3"));
        // Stride 2 with a residual that broadcasts over the image: falls back to the nodes one by one.
        g.Node.Add(Node("Conv", ["r2", "w4"], ["c4"], "conv4", Ints("strides", 2, 2), same));
        g.Node.Add(Bn("c4", "bn4", "n4"));
        g.Node.Add(Node("Add", ["bn4", "shortcut"], ["a4"], "add4"));
        g.Node.Add(Node("Relu", ["a4"], ["y4"], "relu4"));
        g.Output.Add(Value("r2", TensorProto.Types.DataType.Float, 2, 4, 32, 32));
        g.Output.Add(Value("c3", TensorProto.Types.DataType.Float, 2, 4, 16, 16));
        g.Output.Add(Value("bn3", TensorProto.Types.DataType.Float, 2, 4, 16, 16));
        g.Output.Add(Value("y4", TensorProto.Types.DataType.Float, 2, 4, 16, 16));
        return Model(g, opset: 15);
    }

    [Fact]
    public void Fused_chains_match_onnx_runtime_and_unfused_ones_are_left_alone()
    {
        var proto = Blocks();
        var rng = new Random(9);
        using var session = new InferenceSession(proto.ToByteArray());
        var model = OnnxModel.FromProto(proto);
        var profiling = Profiler.Enabled;
        Profiler.Enabled = true;
        long Fused() => Profiler.Report().Where(r => r.Name.Contains("ConvAffine", StringComparison.Ordinal)).Sum(r => r.Calls);
        var before = Fused();
        try
        {
            // Three runs with new inputs: later runs reuse the pooled buffers of earlier ones (each activation is 8192 floats).
            for (var run = 0; run < 3; run++)
            {
                var x = Uniform(rng, 2 * 3 * 32 * 32, -1, 1);
                var shortcut = Uniform(rng, 2 * 4, -1, 1);
                using var expected = session.Run(
                [
                    NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, [2, 3, 32, 32])),
                    NamedOnnxValue.CreateFromTensor("shortcut", new DenseTensor<float>(shortcut, [2, 4, 1, 1])),
                ]);
                var inputs = new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(x, 2, 3, 32, 32), ["shortcut"] = Tensor.FromArray(shortcut, 2, 4, 1, 1) };
                Dictionary<string, Tensor> actual;
                using (GradMode.NoGrad()) actual = model.Run(inputs);
                foreach (var output in expected)
                {
                    var want = output.AsTensor<float>().ToArray();
                    var got = actual[output.Name].ToFloatArray();
                    Assert.Equal(want.Length, got.Length);
                    var scale = Math.Max(1e-6, want.Max(v => Math.Abs(v)));
                    for (var i = 0; i < want.Length; i++)
                        Assert.True(Math.Abs(want[i] - got[i]) <= 1e-5 * scale, $"run {run}, {output.Name}[{i}]: {got[i]} vs ONNX Runtime {want[i]}");
                }
            }
        }
        finally
        {
            Profiler.Enabled = profiling;
        }
        // conv1 and conv2 fuse; conv3 cannot (its output is a graph output); conv4's fused call is refused and it falls back.
        Assert.True(Fused() - before >= 6, $"expected at least two fused convolutions per run, saw {Fused() - before} in three runs");
    }
}
