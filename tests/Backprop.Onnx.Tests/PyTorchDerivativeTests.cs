using Backprop.Data;
using Backprop.Runtime;

namespace Backprop.Onnx.Tests;

/// <summary>
/// Gradients, JVPs and Hessian-vector products of small PyTorch-exported models against PyTorch's own (float64) derivatives:
/// tests/fixtures/generate_derivatives.py writes the models and the references.
/// </summary>
public class PyTorchDerivativeTests
{
    public static TheoryData<string> Models => ["mlp", "cnn_bn", "residual", "layernorm", "attention", "embedding", "gru", "lstm"];

    private static (OnnxModel Model, Dictionary<string, Tensor> Data) Load(string name)
    {
        var dir = Path.Combine(TestData.RepoRoot, "tests", "fixtures", "derivatives");
        return (OnnxModel.Load(Path.Combine(dir, name + ".onnx")), Npy.LoadArchive(Path.Combine(dir, name + ".npz")));
    }

    private static Dictionary<string, Tensor> Prefixed(Dictionary<string, Tensor> data, string prefix) =>
        data.Where(p => p.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(p => p.Key[prefix.Length..], p => p.Value);

    /// <summary>Within <paramref name="tolerance"/> of the tensor's largest magnitude, or of 1e-3 of <paramref name="floor"/> for a
    /// tensor whose exact derivative is (near) zero, where float32 rounding is all that remains.</summary>
    private static void Close(Tensor expected, Tensor actual, double tolerance, string what, double floor = 0)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        var (e, a) = (expected.ToDoubleArray(), actual.ToDoubleArray());
        var scale = Math.Max(Math.Max(1e-6, 1e-3 * floor), e.Max(Math.Abs));
        for (var i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= tolerance * scale, $"{what}[{i}]: {a[i]} vs PyTorch {e[i]} (scale {scale})");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Outputs_match_pytorch(string name)
    {
        var (model, data) = Load(name);
        Dictionary<string, Tensor> outputs;
        using (GradMode.NoGrad()) outputs = model.Run(Prefixed(data, "input/"));
        foreach (var (output, reference) in Prefixed(data, "output/")) Close(reference, outputs[output], 1e-4, $"{name} {output}");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Gradients_match_pytorch(string name)
    {
        var (model, data) = Load(name);
        var grads = ModelCalculus.Grad(model, Prefixed(data, "input/"), Prefixed(data, "seed/"));
        var expected = Prefixed(data, "grad/");
        Assert.NotEmpty(expected);
        var largest = expected.Values.Max(t => t.ToDoubleArray().Max(Math.Abs));
        foreach (var (tensor, reference) in expected) Close(reference, grads[tensor], 1e-4, $"{name} ∂L/∂{tensor}", largest);
        // one gradient for every floating input and initializer, shapes exact
        Assert.Equal(model.Parameters.Where(p => p.Value.DType.IsFloatingPoint()).Select(p => p.Key).Concat(Prefixed(data, "input/").Where(p => p.Value.DType.IsFloatingPoint()).Select(p => p.Key)).Order(), grads.Keys.Order());
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Forward_mode_tangents_match_pytorch(string name)
    {
        var (model, data) = Load(name);
        var tangents = Prefixed(data, "tangent/");
        if (tangents.Count == 0)
        {
            Assert.Equal("embedding", name); // integer input only: no tangent to push
            return;
        }
        var jvp = ModelCalculus.Jvp(model, Prefixed(data, "input/"), tangents);
        Close(data["jvp/out"], jvp["out"], 1e-4, $"{name} J·v");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Hessian_vector_products_match_pytorch_in_both_modes(string name)
    {
        var (model, data) = Load(name);
        var directions = Prefixed(data, "direction/");
        Assert.NotEmpty(directions);
        foreach (var mode in new[] { DiffMode.ForwardOverReverse, DiffMode.ReverseOverReverse })
        {
            var hvp = ModelCalculus.Hvp(model, Prefixed(data, "input/"), Prefixed(data, "seed/"), directions, mode);
            foreach (var (tensor, reference) in Prefixed(data, "hvp/")) Close(reference, hvp[tensor], 1e-3, $"{name} H·v ({mode}) for {tensor}");
        }
    }
}
