using Backprop.Onnx.Proto;
using Backprop.Runtime;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static Backprop.Onnx.Tests.TestData;

namespace Backprop.Onnx.Tests;

/// <summary>
/// A transformer feed-forward block spelled as PyTorch exports it at opset 13 — LayerNorm as nine nodes, Linear as MatMul
/// + Add, GELU as five nodes — runs as fused LayerNorm, Gemm and Gelu calls without gradients, with pooled buffers reused
/// across runs; ONNX Runtime is the oracle on every run, including a chain that must decline (ε not a scalar).
/// </summary>
public class FusedTransformerTests
{
    private static float[] Uniform(Random rng, int n, double lo, double hi) => Enumerable.Range(0, n).Select(_ => (float)(lo + (hi - lo) * rng.NextDouble())).ToArray();

    private static NodeProto Constant(string name, float value) =>
        Node("Constant", [], [name], name, new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = FloatTensor("", [value]) });

    private static IEnumerable<NodeProto> LayerNorm(string x, string y, string gamma, string beta, string eps, string p)
    {
        var axes = new AttributeProto { Name = "axes", Type = AttributeProto.Types.AttributeType.Ints };
        axes.Ints.Add(-1);
        yield return Node("ReduceMean", [x], [p + "m"], p + "mean", axes);
        yield return Node("Sub", [x, p + "m"], [p + "d"], p + "sub");
        yield return Node("Pow", [p + "d", "two"], [p + "p"], p + "pow");
        yield return Node("ReduceMean", [p + "p"], [p + "v"], p + "var", axes);
        yield return Node("Add", [p + "v", eps], [p + "e"], p + "eps");
        yield return Node("Sqrt", [p + "e"], [p + "s"], p + "sqrt");
        yield return Node("Div", [p + "d", p + "s"], [p + "n"], p + "div");
        yield return Node("Mul", [p + "n", gamma], [p + "g"], p + "scale");
        yield return Node("Add", [p + "g", beta], [y], p + "shift");
    }

    private static ModelProto Block()
    {
        var rng = new Random(11);
        var g = new GraphProto { Name = "ffn" };
        g.Input.Add(Value("x", TensorProto.Types.DataType.Float, 2, 5, 8));
        g.Initializer.Add(FloatTensor("gamma", Uniform(rng, 8, 0.5, 1.5), 8));
        g.Initializer.Add(FloatTensor("beta", Uniform(rng, 8, -0.5, 0.5), 8));
        g.Initializer.Add(FloatTensor("w1", Uniform(rng, 8 * 16, -0.5, 0.5), 8, 16));
        g.Initializer.Add(FloatTensor("b1", Uniform(rng, 16, -0.5, 0.5), 16));
        g.Initializer.Add(FloatTensor("w2", Uniform(rng, 16 * 8, -0.5, 0.5), 16, 8));
        g.Initializer.Add(FloatTensor("b2", Uniform(rng, 8, -0.5, 0.5), 8));
        g.Initializer.Add(FloatTensor("eps_rows", Uniform(rng, 10, 1e-5, 1e-3), 2, 5, 1));
        g.Node.Add(Constant("two", 2));
        g.Node.Add(Constant("eps", 1e-5f));
        g.Node.Add(Constant("root2", (float)Math.Sqrt(2)));
        g.Node.Add(Constant("one", 1));
        g.Node.Add(Constant("half", 0.5f));
        g.Node.AddRange(LayerNorm("x", "h", "gamma", "beta", "eps", "ln_"));
        g.Node.Add(Node("MatMul", ["h", "w1"], ["mm1"], "fc1"));
        g.Node.Add(Node("Add", ["b1", "mm1"], ["a1"], "fc1_bias"));
        g.Node.Add(Node("Div", ["a1", "root2"], ["q"], "gelu_div"));
        g.Node.Add(Node("Erf", ["q"], ["r"], "gelu_erf"));
        g.Node.Add(Node("Add", ["r", "one"], ["t"], "gelu_add"));
        g.Node.Add(Node("Mul", ["a1", "t"], ["u"], "gelu_mul"));
        g.Node.Add(Node("Mul", ["u", "half"], ["gelu"], "gelu_half"));
        g.Node.Add(Node("MatMul", ["gelu", "w2"], ["mm2"], "fc2"));
        g.Node.Add(Node("Add", ["mm2", "b2"], ["y"], "fc2_bias"));
        // The same spelling with one ε per row: not a scalar, so this chain runs node by node.
        g.Node.AddRange(LayerNorm("x", "z", "gamma", "beta", "eps_rows", "rows_"));
        g.Output.Add(Value("y", TensorProto.Types.DataType.Float, 2, 5, 8));
        g.Output.Add(Value("z", TensorProto.Types.DataType.Float, 2, 5, 8));
        return Model(g, opset: 13);
    }

    [Fact]
    public void Fused_block_matches_onnx_runtime_on_every_run()
    {
        var proto = Block();
        using var session = new InferenceSession(proto.ToByteArray());
        var model = OnnxModel.FromProto(proto);
        var rng = new Random(4);
        var profiling = Profiler.Enabled;
        Profiler.Enabled = true;
        long Calls(string op) => Profiler.Report().Where(r => r.Name == op + " forward").Sum(r => r.Calls);
        var before = (LayerNorm: Calls("ai.backprop::LayerNorm"), Gelu: Calls("Gelu"), Gemm: Calls("Gemm"));
        try
        {
            for (var run = 0; run < 3; run++)
            {
                var x = Uniform(rng, 80, -2, 2);
                using var expected = session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, [2, 5, 8]))]);
                Dictionary<string, Tensor> actual;
                using (GradMode.NoGrad()) actual = model.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(x, 2, 5, 8) });
                foreach (var output in expected)
                {
                    var want = output.AsTensor<float>().ToArray();
                    var got = actual[output.Name].ToFloatArray();
                    Assert.Equal(want.Length, got.Length);
                    var scale = want.Max(v => Math.Abs(v));
                    for (var i = 0; i < want.Length; i++)
                        Assert.True(Math.Abs(want[i] - got[i]) <= 1e-5 * scale, $"run {run}, {output.Name}[{i}]: {got[i]} vs ONNX Runtime {want[i]}");
                }
            }
        }
        finally
        {
            Profiler.Enabled = profiling;
        }
        Assert.True(Calls("ai.backprop::LayerNorm") - before.LayerNorm >= 3, "the LayerNorm spelling should run fused");
        Assert.True(Calls("Gelu") - before.Gelu >= 3, "the GELU spelling should run fused");
        Assert.True(Calls("Gemm") - before.Gemm >= 6, "MatMul + bias should run as Gemm");
    }
}
