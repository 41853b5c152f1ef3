using Backprop.Onnx.Proto;
using static Backprop.Onnx.Tests.TestData;

namespace Backprop.Onnx.Tests;

/// <summary>
/// Control flow: gradients through the branch of an If that ran and through every iteration of a Loop (checked against
/// calculus done by hand), and the errors for loops that cannot end or branches that do not import.
/// </summary>
public class ControlFlowTests
{
    private static AttributeProto Graph(string name, GraphProto g) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Graph, G = g };

    private static TensorProto Scalar(string name, long value)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Int64Data.Add(value);
        return t;
    }

    /// <summary>
    /// h ← h·w for M iterations, collecting every h: final = x·wᴹ, scan[i] = x·w^(i+1). w is an outer initializer the body
    /// reads implicitly.
    /// </summary>
    private static ModelProto PowerLoop(long trips, string? bodyOp = null)
    {
        var body = new GraphProto { Name = "body" };
        body.Input.Add(Value("i", TensorProto.Types.DataType.Int64));
        body.Input.Add(Value("c", TensorProto.Types.DataType.Bool));
        body.Input.Add(Value("h", TensorProto.Types.DataType.Float, 2));
        body.Output.Add(Value("c_out", TensorProto.Types.DataType.Bool));
        body.Output.Add(Value("h_out", TensorProto.Types.DataType.Float, 2));
        body.Output.Add(Value("h_scan", TensorProto.Types.DataType.Float, 2));
        body.Node.Add(Node("Identity", ["c"], ["c_out"], "keep_going"));
        body.Node.Add(Node(bodyOp ?? "Mul", ["h", "w"], ["h_out"], "step"));
        body.Node.Add(Node("Identity", ["h_out"], ["h_scan"], "collect"));
        var g = new GraphProto { Name = "power" };
        g.Input.Add(Value("x", TensorProto.Types.DataType.Float, 2));
        g.Output.Add(Value("final", TensorProto.Types.DataType.Float, 2));
        g.Output.Add(Value("all", TensorProto.Types.DataType.Float, trips, 2));
        g.Initializer.Add(FloatTensor("w", [1.5f, -0.5f], 2));
        g.Initializer.Add(Scalar("M", trips));
        g.Node.Add(Node("Loop", ["M", "", "x"], ["final", "all"], "loop", Graph("body", body)));
        return Model(g, opset: 13);
    }

    [Fact]
    public void Loop_gradients_flow_back_through_every_iteration()
    {
        var model = OnnxModel.FromProto(PowerLoop(3));
        var x = Tensor.FromArray([2f, 4f], 2);
        var outputs = model.Run(new Dictionary<string, Tensor> { ["x"] = x });
        Assert.Equal([2 * 3.375f, 4 * -0.125f], outputs["final"].ToFloatArray());
        Assert.Equal(new Shape(3, 2), outputs["all"].Shape);
        Assert.Equal([3f, -2f, 4.5f, 1f, 6.75f, -0.5f], outputs["all"].ToFloatArray());
        // L = Σ final + Σ all = Σ_k x_k (w_k + w_k² + w_k³ + w_k³): ∂L/∂w_k = x_k (1 + 2w_k + 6w_k²), ∂L/∂x_k = w_k + w_k² + 2w_k³
        var grads = ModelCalculus.Grad(model, new Dictionary<string, Tensor> { ["x"] = x },
            new Dictionary<string, Tensor> { ["final"] = Tensor.Ones(new Shape(2)), ["all"] = Tensor.Ones(new Shape(3, 2)) });
        double[] w = [1.5, -0.5], xs = [2, 4];
        var dw = grads["w"].ToDoubleArray();
        var dx = grads["x"].ToDoubleArray();
        for (var k = 0; k < 2; k++)
        {
            Assert.Equal(xs[k] * (1 + 2 * w[k] + 6 * w[k] * w[k]), dw[k], 4);
            Assert.Equal(w[k] + w[k] * w[k] + 2 * w[k] * w[k] * w[k], dx[k], 4);
        }
    }

    [Fact]
    public void A_loop_without_trip_count_or_condition_is_refused_and_unsupported_body_ops_are_listed_before_running()
    {
        var endless = PowerLoop(3);
        endless.Graph.Node[0].Input[0] = "";
        var e = Assert.Throws<OnnxImportException>(() => OnnxModel.FromProto(endless).Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([1f, 1f], 2) }));
        Assert.Contains("never end", e.Message);
        Assert.Contains("loop", e.Message);

        var unsupported = Assert.Throws<UnsupportedOpsException>(() => OnnxModel.FromProto(PowerLoop(3, "NoSuchOp")));
        Assert.Contains(unsupported.Nodes, line => line.Contains("NoSuchOp") && line.Contains("subgraph 'body'") && line.Contains("'loop'"));
    }

    [Fact]
    public void A_trip_count_past_the_iteration_limit_stops_with_an_error_naming_the_loop()
    {
        var limits = new ImportLimits { MaxLoopIterations = 50 };
        var x = new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([1f, 1f], 2) };
        var within = OnnxModel.FromProto(PowerLoop(50), new OnnxLoadOptions { Limits = limits }).Run(x);
        Assert.Equal(new Shape(50, 2), within["all"].Shape);
        // A hostile file's trip count (here 10¹⁵, which would run for years) ends at the cap.
        var e = Assert.Throws<OnnxImportException>(() => OnnxModel.FromProto(PowerLoop(1_000_000_000_000_000), new OnnxLoadOptions { Limits = limits }).Run(x));
        Assert.Contains("MaxLoopIterations (50)", e.Message);
        Assert.Contains("'loop'", e.Message);
    }

    /// <summary>y = If(x·Σ > 0, then: x·a, else: x·b): the gradient reaches the initializer of the branch that ran only.</summary>
    [Fact]
    public void If_differentiates_the_branch_that_ran()
    {
        GraphProto Branch(string name, string weight)
        {
            var b = new GraphProto { Name = name };
            b.Output.Add(Value(name + "_y", TensorProto.Types.DataType.Float, 2));
            b.Node.Add(Node("Mul", ["x", weight], [name + "_y"], name + "_mul"));
            return b;
        }
        var g = new GraphProto { Name = "branchy" };
        g.Input.Add(Value("x", TensorProto.Types.DataType.Float, 2));
        g.Output.Add(Value("y", TensorProto.Types.DataType.Float, 2));
        g.Initializer.Add(FloatTensor("a", [2f, 3f], 2));
        g.Initializer.Add(FloatTensor("b", [5f, 7f], 2));
        g.Initializer.Add(FloatTensor("zero", [0f], 1));
        g.Node.Add(Node("ReduceSum", ["x"], ["s"], "sum", new AttributeProto { Name = "keepdims", Type = AttributeProto.Types.AttributeType.Int, I = 0 }));
        g.Node.Add(Node("Greater", ["s", "zero"], ["positive"], "test"));
        g.Node.Add(Node("If", ["positive"], ["y"], "choose", Graph("then_branch", Branch("then", "a")), Graph("else_branch", Branch("else", "b"))));
        var model = OnnxModel.FromProto(Model(g, opset: 13));
        var seed = new Dictionary<string, Tensor> { ["y"] = Tensor.Ones(new Shape(2)) };
        var up = ModelCalculus.Grad(model, new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([1f, 2f], 2) }, seed);
        Assert.Equal([1f, 2f], up["a"].ToFloatArray());
        Assert.Equal([0f, 0f], up["b"].ToFloatArray());
        Assert.Equal([2f, 3f], up["x"].ToFloatArray());
        var down = ModelCalculus.Grad(model, new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([-1f, -2f], 2) }, seed);
        Assert.Equal([0f, 0f], down["a"].ToFloatArray());
        Assert.Equal([-1f, -2f], down["b"].ToFloatArray());
        Assert.Equal([5f, 7f], down["x"].ToFloatArray());
    }
}
