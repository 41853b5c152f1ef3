using System.Buffers.Binary;
using System.Xml.Linq;
using Backprop.Data;
using Backprop.Diagnostics;
using Backprop.Runtime;

namespace Backprop.Onnx.Tests;

/// <summary>
/// Gradient pictures of imported models: the norms a graph shows are PyTorch's, per-reader shares add up to the total, hooks
/// unsubscribe, and `backprop graph` writes an SVG with one node per op (parsed here) or says clearly why it cannot.
/// </summary>
public class GraphPictureTests
{
    private static readonly string Derivatives = Path.Combine(TestData.RepoRoot, "tests", "fixtures", "derivatives");

    private static (OnnxModel Model, Dictionary<string, Tensor> Data) Fixture(string name) =>
        (OnnxModel.Load(Path.Combine(Derivatives, name + ".onnx")), Npy.LoadArchive(Path.Combine(Derivatives, name + ".npz")));

    private static Dictionary<string, Tensor> Prefixed(Dictionary<string, Tensor> data, string prefix) =>
        data.Where(p => p.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(p => p.Key[prefix.Length..], p => p.Value);

    private static double Norm(Tensor t) => Math.Sqrt(t.ToDoubleArray().Sum(v => v * v));

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn_bn")]
    [InlineData("residual")]
    [InlineData("attention")]
    [InlineData("lstm")]
    public void Gradient_norms_in_the_picture_are_pytorchs(string name)
    {
        var (model, data) = Fixture(name);
        var graph = ModelGraph.Capture(model, Prefixed(data, "input/"), Prefixed(data, "seed/"));
        var expected = Prefixed(data, "grad/");
        Assert.NotEmpty(expected);
        // a gradient that is exactly zero in exact arithmetic (attention's key bias) is float32 rounding here: judge it
        // against 1e-3 of the largest gradient norm
        var largest = expected.Values.Max(Norm);
        foreach (var (tensor, reference) in expected)
        {
            var value = graph.Find(tensor);
            Assert.True(value?.Gradient is not null, $"{name}: no gradient recorded for '{tensor}'");
            var (ours, theirs) = (value!.Gradient!.Value.Norm, Norm(reference));
            Assert.True(Math.Abs(ours - theirs) <= 1e-4 * Math.Max(theirs, 1e-3 * largest), $"{name} ‖∂L/∂{tensor}‖: {ours} vs PyTorch {theirs}");
        }
        Assert.Equal(model.Proto.Graph.Node.Count, graph.Nodes.Count);
        Assert.All(graph.Nodes, n => Assert.NotNull(n.Outputs[0].Shape));
    }

    [Fact]
    public void Each_readers_share_is_reported_and_the_shares_add_up_to_pytorchs_total()
    {
        // residual: out = in0 + b(tanh(a(in0))); in0 is read by Conv 'a' and by the Add.
        var (model, data) = Fixture("residual");
        var leaves = Prefixed(data, "input/").ToDictionary(p => p.Key, p => { var t = p.Value.Detach(); t.RequiresGrad = true; return t; });
        var flows = new List<GradientFlow>();
        using (model.OnBackward(flows.Add))
        {
            var output = model.Run(leaves)["out"];
            Autograd.Backward([output], [data["seed/out"]]);
        }
        var shares = flows.Where(f => f.Value == "in0" && f.Consumer is not null).ToList();
        Assert.Equal(2, shares.Count);
        var total = flows.Single(f => f.Value == "in0" && f.Consumer is null).Gradient.ToDoubleArray();
        var sum = shares[0].Gradient.ToDoubleArray().Zip(shares[1].Gradient.ToDoubleArray(), (a, b) => a + b).ToArray();
        var reference = data["grad/in0"].ToDoubleArray();
        var scale = reference.Max(Math.Abs);
        for (var i = 0; i < reference.Length; i++)
        {
            Assert.True(Math.Abs(sum[i] - reference[i]) <= 1e-4 * scale, $"shares sum [{i}] {sum[i]} vs PyTorch {reference[i]}");
            Assert.True(Math.Abs(total[i] - reference[i]) <= 1e-4 * scale, $"total [{i}] {total[i]} vs PyTorch {reference[i]}");
        }
        // the Add passes its output's gradient through unchanged: that share is the seed
        var throughAdd = shares.Single(f => model.Proto.Graph.Node.Single(n => n.Name == f.Consumer).OpType == "Add");
        Assert.Equal(data["seed/out"].ToDoubleArray(), throughAdd.Gradient.ToDoubleArray());
    }

    [Fact]
    public void Hooks_stop_when_disposed_and_leave_parameters_without_hooks()
    {
        var (model, data) = Fixture("mlp");
        var calls = 0;
        var forward = 0;
        var subscription = model.OnBackward(_ => calls++);
        var forwardSubscription = model.OnForward(_ => forward++);
        Autograd.Backward([model.Run(Prefixed(data, "input/"))["out"]], [data["seed/out"]]);
        Assert.True(calls >= 6 + 5, $"expected every parameter and node output to be reported, got {calls}");
        Assert.Equal(model.Proto.Graph.Node.Count, forward);
        subscription.Dispose();
        forwardSubscription.Dispose();
        (calls, forward) = (0, 0);
        foreach (var p in model.Parameters.Values) p.Grad = null;
        Autograd.Backward([model.Run(Prefixed(data, "input/"))["out"]], [data["seed/out"]]);
        Assert.Equal(0, calls);
        Assert.Equal(0, forward);
        Assert.NotNull(model.Parameters["fc1.weight"].Grad);
    }

    private static bool DotRequired => Environment.GetEnvironmentVariable("CI") == "true";

    [SkippableFact]
    public async Task Graph_command_draws_the_demo_model_as_svg_with_one_node_per_op_and_a_png()
    {
        Skip.If(!Graphviz.IsAvailable() && !DotRequired, "Graphviz's dot is not installed (CI installs it)");
        var dir = TestData.Temp();
        var modelPath = Path.Combine(Path.GetDirectoryName(Tool.Path)!, "models", "ResNet18.onnx");
        var svg = Path.Combine(dir, "resnet18.svg");
        var (exit, stdout, stderr) = await Tool.Run(TimeSpan.FromMinutes(3), "graph", modelPath, "--out", svg);
        Assert.True(exit == 0, $"graph exited {exit}:\n{stdout}\n{stderr}");
        var nodes = OpNodes(svg);
        var proto = ModelReader.Read(modelPath);
        Assert.Equal(proto.Graph.Node.Count, nodes.Count);
        // every op appears with its type, and gradient norms label the edges
        Assert.Equal(proto.Graph.Node.Select(n => n.OpType).Order(), nodes.Select(n => n.Op).Order());
        Assert.Contains("‖∇‖", File.ReadAllText(svg));
        Assert.True(File.Exists(Path.ChangeExtension(svg, ".dot")));
        Assert.Contains("blocks most gradient", stdout);

        var png = Path.Combine(dir, "stem.png");
        (exit, stdout, stderr) = await Tool.Run(TimeSpan.FromMinutes(3), "graph", modelPath, "--out", png, "--prefix", "Convolution249", "--prefix", "BatchNormalization251", "--prefix", "ReLU253");
        Assert.True(exit == 0, $"graph exited {exit}:\n{stdout}\n{stderr}");
        var bytes = File.ReadAllBytes(png);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        Assert.True(BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16, 4)) > 50);
        Assert.Equal(3, File.ReadAllLines(Path.ChangeExtension(png, ".dot")).Count(l => l.Contains("class=\"op\"")));
    }

    /// <summary>The op nodes of a Graphviz SVG (groups of classes "node op" whose title is op_N) and the op type shown first in each.</summary>
    internal static List<(string Id, string Op)> OpNodes(string svgPath)
    {
        var doc = XDocument.Load(svgPath);
        XNamespace ns = "http://www.w3.org/2000/svg";
        return doc.Descendants(ns + "g")
            .Where(g => ((string?)g.Attribute("class"))?.Split(' ') is { } classes && classes.Contains("node") && classes.Contains("op")
                && g.Element(ns + "title")?.Value.StartsWith("op_", StringComparison.Ordinal) == true)
            .Select(g => (g.Element(ns + "title")!.Value, g.Descendants(ns + "text").First().Value))
            .ToList();
    }

    [Fact]
    public async Task Without_graphviz_the_dot_file_is_still_written_and_the_error_says_what_to_install()
    {
        var dir = TestData.Temp();
        var svg = Path.Combine(dir, "mlp.svg");
        var (exit, stdout, stderr) = await Tool.Run(TimeSpan.FromMinutes(2), new Dictionary<string, string> { ["BACKPROP_DOT"] = "/nonexistent/dot" },
            "graph", Path.Combine(Derivatives, "mlp.onnx"), "--out", svg);
        Assert.Equal(1, exit);
        Assert.Contains("apt-get install graphviz", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.False(File.Exists(svg));
        Assert.Contains("digraph", File.ReadAllText(Path.ChangeExtension(svg, ".dot")));
        _ = stdout;
    }

    [Fact]
    public async Task Integer_inputs_are_given_and_the_floating_ones_drawn()
    {
        // y = Gather(x, idx): x can be drawn at random, idx cannot.
        var g = new Proto.GraphProto { Name = "g" };
        g.Input.Add(TestData.Value("x", Proto.TensorProto.Types.DataType.Float, 4, 3));
        g.Input.Add(TestData.Value("idx", Proto.TensorProto.Types.DataType.Int64, 2));
        g.Output.Add(TestData.Value("y", Proto.TensorProto.Types.DataType.Float, 2, 3));
        g.Node.Add(TestData.Node("Gather", ["x", "idx"], ["y"], "gather0"));
        var dir = TestData.Temp();
        var modelPath = Path.Combine(dir, "gather.onnx");
        File.WriteAllBytes(modelPath, TestData.Bytes(TestData.Model(g)));
        var idx = new Proto.TensorProto { Name = "idx", DataType = (int)Proto.TensorProto.Types.DataType.Int64 };
        idx.Dims.Add(2);
        idx.Int64Data.AddRange([3, 1]);
        var idxPath = Path.Combine(dir, "idx.pb");
        File.WriteAllBytes(idxPath, TestData.Bytes(idx));

        var model = OnnxModel.Load(modelPath);
        var e = Assert.Throws<OnnxImportException>(() => ModelGraph.RandomInputs(model));
        Assert.Contains("'idx'", e.Message);
        var drawn = ModelGraph.RandomInputs(model, given: ["idx"]);
        Assert.Equal(["x"], drawn.Keys);
        Assert.Equal(new Shape(4, 3), drawn["x"].Shape);

        var dot = Path.Combine(dir, "gather.dot");
        var (exit, stdout, stderr) = await Tool.Run(TimeSpan.FromMinutes(2), "graph", modelPath, "--input", $"idx={idxPath}", "--out", dot);
        Assert.True(exit == 0, stderr);
        Assert.Contains("x [4, 3]", stdout);
        Assert.Contains("Gather", File.ReadAllText(dot));
    }

    [Theory]
    [InlineData("--out", "graph.txt")]
    [InlineData("--prefix", "no_such_node")]
    [InlineData("--collapse", "sometimes")]
    public async Task Bad_graph_arguments_end_with_one_line_and_a_non_zero_exit(string option, string value)
    {
        var dir = TestData.Temp();
        string[] args = option == "--out" ? [Path.Combine(dir, value)] : [Path.Combine(dir, "g.dot"), option, value];
        var (exit, _, stderr) = await Tool.Run(TimeSpan.FromMinutes(2), ["graph", Path.Combine(Derivatives, "mlp.onnx"), "--out", .. args]);
        Assert.Equal(1, exit);
        Assert.StartsWith("backprop: ", stderr.Trim());
        Assert.Single(stderr.Trim().Split('\n'));
    }
}
