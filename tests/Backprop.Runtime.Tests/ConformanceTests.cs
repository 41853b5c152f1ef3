using Backprop.Testing;

namespace Backprop.Tests;

/// <summary>Every registered op against finite differences, both modes, first and second order.</summary>
public class ConformanceTests
{
    public static TheoryData<string> RegisteredOps()
    {
        var data = new TheoryData<string>();
        foreach (var r in TestEnv.Runtime.Ops.All) data.Add(r.Op.Schema.QualifiedName);
        return data;
    }

    [Theory]
    [MemberData(nameof(RegisteredOps))]
    public void Op_passes_the_conformance_kit(string op)
    {
        var registration = TestEnv.Runtime.Ops.All.Single(r => r.Op.Schema.QualifiedName == op);
        var results = OpConformance.Check(TestEnv.Runtime, registration.Op);
        Assert.NotEmpty(results);
        OpConformance.AssertAllPassed(results);
    }

    [Fact]
    public void Core_plugin_registers_the_standard_op_set()
    {
        var names = TestEnv.Runtime.Ops.All.Select(r => r.Op.Schema.Name).ToHashSet();
        string[] required =
        [
            "Add", "Sub", "Mul", "Div", "Neg", "Pow", "Exp", "Log", "Sqrt", "Reciprocal", "Abs", "Sin", "Cos", "Tanh",
            "Sigmoid", "Relu", "LeakyRelu", "Elu", "Softplus", "Gelu", "Erf", "Max", "Min", "Where", "Clip",
            "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "Reshape", "Transpose", "Expand", "Slice", "Concat",
            "Split", "Gather", "Squeeze", "Unsqueeze", "Pad", "MatMul", "Gemm", "Softmax", "LogSoftmax",
            "MseLoss", "NllLoss", "CrossEntropyLoss",
        ];
        var missing = required.Where(n => !names.Contains(n)).ToList();
        Assert.True(missing.Count == 0, "missing ops: " + string.Join(", ", missing));
        Assert.Empty(TestEnv.Runtime.PluginFailures);
    }

    [Fact]
    public void A_rule_that_breaks_the_identity_is_caught()
    {
        // The kit must be able to fail: an op whose JVP is off by a factor is reported.
        var results = OpConformance.Check(TestEnv.Runtime, new WrongJvpOp());
        Assert.Contains(results, r => !r.Passed && r.Check == "jvp-vs-fd");
        Assert.Contains(results, r => !r.Passed && r.Check == "vjp-jvp-identity");
        Assert.Contains(results, r => r.Passed && r.Check == "vjp-vs-fd");
    }

    private sealed class WrongJvpOp : IDifferentiableOp, IOpSamples
    {
        public OpSchema Schema { get; } = new("test", "WrongJvp", 1, 1, 1);

        public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x) => [Ops.Exp(x[0]).Detach()];

        public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) => [Ops.Mul(g[0]!, ctx.Output(0))];

        public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t) => [Ops.Mul(Ops.Mul(t[0]!, ctx.Output(0)), Tensor.Scalar(1.01, DType.Float64))];

        public IEnumerable<OpSample> Samples(Random rng)
        {
            yield return new OpSample("4", Tensor.Uniform(new Shape(4), rng, -1, 1, DType.Float64));
        }
    }
}
