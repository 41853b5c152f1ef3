using System.Reflection;
using Backprop.Onnx.Proto;
using Backprop.Runtime;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static Backprop.Onnx.Tests.TestData;

namespace Backprop.Onnx.Tests;

/// <summary>Derivatives of imported models: ONNX Runtime finite differences as the oracle, and the modes against each other.</summary>
public class ModelDerivativeTests
{
    private static double Dot(Tensor a, Tensor b)
    {
        var (x, y) = (a.ToDoubleArray(), b.ToDoubleArray());
        var s = 0.0;
        for (var i = 0; i < x.Length; i++) s += x[i] * y[i];
        return s;
    }

    /// <summary>A float64 MLP 3-5-2 with tanh, weights as initializers: Gemm, Tanh, Gemm, Sigmoid.</summary>
    private static ModelProto Mlp()
    {
        var rng = new Random(4);
        TensorProto Init(string name, params long[] dims)
        {
            var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Double };
            t.Dims.AddRange(dims);
            t.DoubleData.AddRange(Enumerable.Range(0, (int)dims.Aggregate(1L, (a, b) => a * b)).Select(_ => rng.NextDouble() - 0.5));
            return t;
        }
        var g = new GraphProto { Name = "mlp" };
        g.Input.Add(Value("x", TensorProto.Types.DataType.Double, 4, 3));
        g.Output.Add(Value("y", TensorProto.Types.DataType.Double, 4, 2));
        g.Initializer.AddRange([Init("w1", 3, 5), Init("b1", 5), Init("w2", 5, 2), Init("b2", 2)]);
        g.Node.Add(Node("Gemm", ["x", "w1", "b1"], ["h"], "fc1"));
        g.Node.Add(Node("Tanh", ["h"], ["t"], "act"));
        g.Node.Add(Node("Gemm", ["t", "w2", "b2"], ["z"], "fc2"));
        g.Node.Add(Node("Sigmoid", ["z"], ["y"], "out"));
        return Model(g, opset: 13);
    }

    private static Dictionary<string, Tensor> MlpInputs() => new() { ["x"] = Tensor.Uniform(new Shape(4, 3), new Random(5), -1, 1, DType.Float64) };

    [Fact]
    public void Grad_returns_one_tensor_per_floating_input_and_initializer_and_matches_onnx_runtime_finite_differences()
    {
        var proto = Mlp();
        var model = OnnxModel.FromProto(proto);
        var inputs = MlpInputs();
        var seed = Tensor.Normal(new Shape(4, 2), new Random(6), dtype: DType.Float64);
        var grads = ModelCalculus.Grad(model, inputs, new Dictionary<string, Tensor> { ["y"] = seed });
        Assert.Equal(["b1", "b2", "w1", "w2", "x"], grads.Keys.Order().ToArray());

        // ⟨∇L, v⟩ against central differences of ONNX Runtime's forward along v (every tensor perturbed at once).
        var rng = new Random(7);
        var v = grads.ToDictionary(p => p.Key, p => Tensor.Normal(p.Value.Shape, rng, dtype: DType.Float64));
        var analytic = grads.Sum(p => Dot(p.Value, v[p.Key]));
        double L(double h)
        {
            var shifted = proto.Clone();
            foreach (var init in shifted.Graph.Initializer)
            {
                var dir = v[init.Name].ToDoubleArray();
                for (var i = 0; i < init.DoubleData.Count; i++) init.DoubleData[i] += h * dir[i];
            }
            using var session = new InferenceSession(shifted.ToByteArray());
            var x = inputs["x"].ToDoubleArray().Zip(v["x"].ToDoubleArray(), (a, b) => a + h * b).ToArray();
            using var result = session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<double>(x, [4, 3]))]);
            return result.Single().AsTensor<double>().ToArray().Zip(seed.ToDoubleArray(), (a, b) => a * b).Sum();
        }
        const double step = 1e-4;
        var fd = (L(-2 * step) - 8 * L(-step) + 8 * L(step) - L(2 * step)) / (12 * step);
        Assert.True(Math.Abs(fd - analytic) <= 1e-7 * Math.Max(1, Math.Abs(fd)), $"⟨grad, v⟩ = {analytic}, ONNX Runtime finite difference = {fd}");
    }

    [Fact]
    public void Jvp_and_grad_satisfy_the_adjoint_identity_and_hvp_modes_agree_with_finite_differences()
    {
        var model = OnnxModel.FromProto(Mlp());
        var inputs = MlpInputs();
        var rng = new Random(8);
        var u = Tensor.Normal(new Shape(4, 2), rng, dtype: DType.Float64);
        var v = new Dictionary<string, Tensor> { ["x"] = Tensor.Normal(new Shape(4, 3), rng, dtype: DType.Float64), ["w1"] = Tensor.Normal(new Shape(3, 5), rng, dtype: DType.Float64) };
        var jv = ModelCalculus.Jvp(model, inputs, v)["y"];
        var grads = ModelCalculus.Grad(model, inputs, new Dictionary<string, Tensor> { ["y"] = u });
        var left = Dot(u, jv);
        var right = v.Sum(p => Dot(grads[p.Key], p.Value));
        Assert.True(Math.Abs(left - right) <= 1e-12 * Math.Max(1, Math.Abs(left)), $"⟨u, Jv⟩ = {left}, ⟨Jᵀu, v⟩ = {right}");

        var seeds = new Dictionary<string, Tensor> { ["y"] = u };
        var fwdRev = ModelCalculus.Hvp(model, inputs, seeds, v, DiffMode.ForwardOverReverse);
        var revRev = ModelCalculus.Hvp(model, inputs, seeds, v, DiffMode.ReverseOverReverse);
        // Central differences of the gradient along v.
        Dictionary<string, Tensor> GradAt(double h)
        {
            var shiftedInputs = new Dictionary<string, Tensor> { ["x"] = inputs["x"] + v["x"] * h, ["w1"] = model.Parameters["w1"].Detach() + v["w1"] * h };
            return ModelCalculus.Grad(model, shiftedInputs, seeds);
        }
        var (gp, gm) = (GradAt(1e-5), GradAt(-1e-5));
        foreach (var name in v.Keys)
        {
            var a = fwdRev[name].ToDoubleArray();
            var b = revRev[name].ToDoubleArray();
            var fd = gp[name].ToDoubleArray().Zip(gm[name].ToDoubleArray(), (p, m) => (p - m) / 2e-5).ToArray();
            var scale = Math.Max(1e-3, a.Max(Math.Abs));
            for (var i = 0; i < a.Length; i++)
            {
                Assert.True(Math.Abs(a[i] - b[i]) <= 1e-10 * scale, $"{name}[{i}] fwd-rev {a[i]} vs rev-rev {b[i]}");
                Assert.True(Math.Abs(a[i] - fd[i]) <= 1e-6 * scale, $"{name}[{i}] fwd-rev {a[i]} vs finite differences {fd[i]}");
            }
        }
    }

    [SkippableFact]
    public void ResNet18_input_gradient_agrees_with_onnx_runtime_finite_differences_and_with_jvp()
    {
        var package = typeof(ModelDerivativeTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "ResNet18Package")?.Value ?? "";
        var path = Path.Combine(package, "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
        Skip.IfNot(File.Exists(path), "Microsoft.ML.DnnImageFeaturizer.ResNet18 was not restored");
        var model = OnnxModel.Load(path);
        var (inName, outName) = (model.Inputs.Single().Name, model.Outputs.Single().Name);
        var rng = new Random(21);
        var x = Tensor.Uniform(new Shape(1, 3, 224, 224), rng, -1, 1);
        var u = Tensor.Normal(new Shape(1, 512, 1, 1), rng);
        var v = Tensor.Normal(new Shape(1, 3, 224, 224), rng);
        var grad = ModelCalculus.Grad(model, new Dictionary<string, Tensor> { [inName] = x }, new Dictionary<string, Tensor> { [outName] = u });
        Assert.Equal(model.Parameters.Count(p => p.Value.DType.IsFloatingPoint()) + 1, grad.Count);
        var analytic = Dot(grad[inName], v);

        using var session = new InferenceSession(path);
        double L(double h)
        {
            var shifted = x.ToFloatArray().Zip(v.ToFloatArray(), (a, b) => a + (float)h * b).ToArray();
            using var r = session.Run([NamedOnnxValue.CreateFromTensor(inName, new DenseTensor<float>(shifted, [1, 3, 224, 224]))]);
            return r.Single().AsTensor<float>().ToArray().Zip(u.ToFloatArray(), (a, b) => (double)a * b).Sum();
        }
        AgreesWithCentralDifferences(analytic, L, [3e-2, 1e-2, 3e-3], 2e-3, 0, "⟨∇ₓL, v⟩");

        var jvp = ModelCalculus.Jvp(model, new Dictionary<string, Tensor> { [inName] = x }, new Dictionary<string, Tensor> { [inName] = v })[outName];
        var left = Dot(u, jvp);
        Assert.True(Math.Abs(left - analytic) <= 1e-4 * Math.Abs(analytic), $"⟨u, Jv⟩ = {left}, ⟨Jᵀu, v⟩ = {analytic}");
    }

    [Fact]
    public void Bad_calculus_arguments_say_what_is_wrong()
    {
        var model = OnnxModel.FromProto(Mlp());
        var inputs = MlpInputs();
        var e1 = Assert.Throws<OnnxImportException>(() => ModelCalculus.Grad(model, inputs, new Dictionary<string, Tensor> { ["nope"] = Tensor.Zeros(new Shape(4, 2), DType.Float64) }));
        Assert.Contains("'nope'", e1.Message);
        var e2 = Assert.Throws<OnnxImportException>(() => ModelCalculus.Grad(model, inputs, new Dictionary<string, Tensor> { ["y"] = Tensor.Zeros(new Shape(2, 2), DType.Float64) }));
        Assert.Contains("shape", e2.Message);
        var e3 = Assert.Throws<OnnxImportException>(() => ModelCalculus.Jvp(model, inputs, new Dictionary<string, Tensor> { ["w9"] = Tensor.Zeros(new Shape(1), DType.Float64) }));
        Assert.Contains("'w9'", e3.Message);
    }
}
