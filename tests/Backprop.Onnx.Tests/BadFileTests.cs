using Backprop.Onnx.Proto;
using Google.Protobuf;
using static Backprop.Onnx.Tests.TestData;

namespace Backprop.Onnx.Tests;

/// <summary>Malformed and hostile models fail with a typed import error naming what and where.</summary>
public class BadFileTests
{
    private static ModelProto AddModel()
    {
        var g = new GraphProto { Name = "g" };
        g.Input.Add(Value("x", TensorProto.Types.DataType.Float, 3));
        g.Output.Add(Value("y", TensorProto.Types.DataType.Float, 3));
        g.Initializer.Add(FloatTensor("w", [1, 2, 3], 3));
        g.Node.Add(Node("Add", ["x", "w"], ["y"], "add0"));
        return Model(g);
    }

    private static OnnxImportException LoadBytes(byte[] bytes)
    {
        var dir = Temp();
        var path = Path.Combine(dir, "model.onnx");
        File.WriteAllBytes(path, bytes);
        return Assert.ThrowsAny<OnnxImportException>(() => OnnxModel.Load(path));
    }

    [Fact]
    public void A_good_model_loads_and_runs()
    {
        var dir = Temp();
        var path = Path.Combine(dir, "model.onnx");
        File.WriteAllBytes(path, AddModel().ToByteArray());
        var model = OnnxModel.Load(path);
        var y = model.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(new float[] { 1, 1, 1 }) })["y"];
        Assert.Equal([2f, 3, 4], y.ToFloatArray());
    }

    [Fact]
    public void Truncated_file()
    {
        var bytes = AddModel().ToByteArray();
        var e = LoadBytes(bytes[..(bytes.Length / 2)]);
        Assert.Contains("not a valid ONNX protobuf", e.Message);
    }

    [Fact]
    public void Not_a_protobuf()
    {
        var e = LoadBytes("this is not a model at all, just text\n"u8.ToArray());
        Assert.Contains("ONNX", e.Message);
    }

    [Fact]
    public void Tensor_data_shorter_than_its_dims()
    {
        var m = AddModel();
        m.Graph.Initializer[0].Dims[0] = 4;
        var e = LoadBytes(m.ToByteArray());
        Assert.Equal("w", e.Tensor);
        Assert.Contains("need 4", e.Message);
    }

    [Fact]
    public void Dims_whose_product_overflows_or_exceeds_the_limit_fail_before_allocating()
    {
        var m = AddModel();
        var t = m.Graph.Initializer[0];
        t.Dims.Clear();
        t.Dims.AddRange([1_000_000, 1_000_000]);
        var bytes = m.ToByteArray();
        Assert.True(bytes.Length < 400, "the hostile file is tiny");
        var before = GC.GetTotalAllocatedBytes();
        var e = LoadBytes(bytes);
        Assert.Contains("elements", e.Message);
        Assert.True(GC.GetTotalAllocatedBytes() - before < 50_000_000, "nothing large was allocated");
        t.Dims.Clear();
        t.Dims.AddRange([long.MaxValue / 2, 4]);
        Assert.Contains("exceeds", LoadBytes(m.ToByteArray()).Message);
        var limited = Assert.Throws<OnnxImportException>(() => OnnxModel.FromProto(AddModel(), new OnnxLoadOptions { Limits = new ImportLimits { MaxTensorElements = 2 } }));
        Assert.Contains("MaxTensorElements", limited.Message);
    }

    /// <summary>The Add model with its initializer "w" stored as external data at <paramref name="location"/>.</summary>
    private static ModelProto ExternalModel(string location)
    {
        var m = AddModel();
        var t = m.Graph.Initializer[0];
        t.FloatData.Clear();
        t.DataLocation = TensorProto.Types.DataLocation.External;
        t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        return m;
    }

    [Fact]
    public void External_data_outside_the_model_folder_is_refused()
    {
        foreach (var location in new[] { "../secret.bin", "/etc/passwd", "sub/../../x.bin" })
        {
            var m = ExternalModel(location);
            var e = LoadBytes(m.ToByteArray());
            Assert.Equal("w", e.Tensor);
            Assert.Contains("folder", e.Message);
        }
    }

    [Fact]
    public void External_data_through_a_symbolic_link_leading_out_of_the_folder_is_refused()
    {
        var outside = Temp();
        File.WriteAllBytes(Path.Combine(outside, "secret.bin"), new byte[12]);
        var dir = Temp();
        File.CreateSymbolicLink(Path.Combine(dir, "w.bin"), Path.Combine(outside, "secret.bin"));
        var m = ExternalModel("w.bin");
        File.WriteAllBytes(Path.Combine(dir, "model.onnx"), m.ToByteArray());
        var e = Assert.Throws<OnnxImportException>(() => OnnxModel.Load(Path.Combine(dir, "model.onnx")));
        Assert.Equal("w", e.Tensor);
        Assert.Contains("link", e.Message);
    }

    [Fact]
    public void External_data_inside_the_folder_loads_and_its_range_is_checked()
    {
        var dir = Temp();
        File.WriteAllBytes(Path.Combine(dir, "w.bin"), new byte[] { 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64 });
        var m = ExternalModel("w.bin");
        File.WriteAllBytes(Path.Combine(dir, "model.onnx"), m.ToByteArray());
        Assert.Equal([1f, 2, 3], OnnxModel.Load(Path.Combine(dir, "model.onnx")).Parameters["w"].ToFloatArray());
        m.Graph.Initializer[0].ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = "8" });
        File.WriteAllBytes(Path.Combine(dir, "model.onnx"), m.ToByteArray());
        var e = Assert.Throws<OnnxImportException>(() => OnnxModel.Load(Path.Combine(dir, "model.onnx")));
        Assert.Contains("exceeds", e.Message);
    }

    [Fact]
    public void Cyclic_graph()
    {
        var g = new GraphProto();
        g.Input.Add(Value("x", TensorProto.Types.DataType.Float, 1));
        g.Output.Add(Value("b", TensorProto.Types.DataType.Float, 1));
        g.Node.Add(Node("Add", ["x", "b"], ["a"], "first"));
        g.Node.Add(Node("Relu", ["a"], ["b"], "second"));
        var e = Assert.Throws<OnnxImportException>(() => OnnxModel.FromProto(Model(g)));
        Assert.Contains("cycle", e.Message);
        Assert.NotNull(e.Node);
    }

    [Fact]
    public void Undefined_input()
    {
        var g = new GraphProto();
        g.Input.Add(Value("x", TensorProto.Types.DataType.Float, 1));
        g.Output.Add(Value("y", TensorProto.Types.DataType.Float, 1));
        g.Node.Add(Node("Add", ["x", "ghost"], ["y"], "adder"));
        var e = Assert.Throws<OnnxImportException>(() => OnnxModel.FromProto(Model(g)));
        Assert.Equal("adder", e.Node);
        Assert.Contains("'ghost'", e.Message);
    }

    [Fact]
    public void Every_unsupported_node_is_listed_at_once()
    {
        var g = new GraphProto();
        g.Input.Add(Value("x", TensorProto.Types.DataType.Float, 2));
        g.Output.Add(Value("z", TensorProto.Types.DataType.Float, 2));
        g.Node.Add(Node("FancyOp", ["x"], ["y"], "fancy_1"));
        g.Node.Add(Node("Relu", ["y"], ["r"], "relu"));
        g.Node.Add(Node("OtherOp", ["r"], ["z"], "other_2"));
        var e = Assert.Throws<UnsupportedOpsException>(() => OnnxModel.FromProto(Model(g)));
        Assert.Equal(2, e.Nodes.Count);
        Assert.Contains("fancy_1", e.Message);
        Assert.Contains("other_2", e.Message);
        Assert.Contains("opset 17", e.Message);
    }

    [Fact]
    public void Missing_and_unknown_inputs_are_named()
    {
        var model = OnnxModel.FromProto(AddModel());
        Assert.Contains("'x'", Assert.Throws<OnnxImportException>(() => model.Run(new Dictionary<string, Tensor>())).Message);
        var e = Assert.Throws<OnnxImportException>(() => model.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.Zeros(new Shape(3)), ["nope"] = Tensor.Zeros(new Shape(3)) }));
        Assert.Contains("'nope'", e.Message);
    }
}

/// <summary>Numerical faults and plugin paths in hostile models.</summary>
public class HostileModelTests
{
    [Fact]
    public void A_nan_produced_mid_graph_is_caught_in_anomaly_mode_naming_the_node_and_the_op()
    {
        var graph = new Backprop.Onnx.Proto.GraphProto { Name = "g" };
        graph.Input.Add(TestData.Value("x", Backprop.Onnx.Proto.TensorProto.Types.DataType.Float, 3));
        graph.Output.Add(TestData.Value("z", Backprop.Onnx.Proto.TensorProto.Types.DataType.Float, 3));
        graph.Node.Add(TestData.Node("Neg", ["x"], ["n"], "negate"));
        graph.Node.Add(TestData.Node("Log", ["n"], ["z"], "log_of_negative"));
        var model = OnnxModel.FromProto(TestData.Model(graph));
        var x = Tensor.FromArray([1f, 2f, 3f], 3);
        using var _ = Backprop.Runtime.GradMode.DetectAnomaly();
        var e = Assert.Throws<OnnxImportException>(() => model.Run(new Dictionary<string, Tensor> { ["x"] = x }));
        Assert.Contains("log_of_negative", e.Message);
        Assert.IsType<Backprop.Runtime.AnomalyException>(e.InnerException);
        Assert.Contains("Log", e.InnerException!.Message);
    }

    [Fact]
    public void A_plugin_path_named_inside_a_model_is_never_loaded()
    {
        var graph = new Backprop.Onnx.Proto.GraphProto { Name = "g" };
        graph.Input.Add(TestData.Value("x", Backprop.Onnx.Proto.TensorProto.Types.DataType.Float, 3));
        graph.Output.Add(TestData.Value("y", Backprop.Onnx.Proto.TensorProto.Types.DataType.Float, 3));
        var node = TestData.Node("SquarePlusSin", ["x"], ["y"], "custom");
        node.Domain = "com.example";
        graph.Node.Add(node);
        var proto = TestData.Model(graph);
        proto.OpsetImport.Add(new Backprop.Onnx.Proto.OperatorSetIdProto { Domain = "com.example", Version = 1 });
        var samplePlugin = Path.Combine(TestData.RepoRoot, "artifacts", "testplugins", "SamplePlugin", "SamplePlugin.dll");
        proto.MetadataProps.Add(new Backprop.Onnx.Proto.StringStringEntryProto { Key = "plugin", Value = samplePlugin });
        proto.Domain = samplePlugin;
        var rt = Backprop.Runtime.BackpropRuntime.Create(new Backprop.Runtime.RuntimeOptions());
        using var _ = rt.Activate();
        var before = rt.Plugins.Count;
        Assert.Throws<UnsupportedOpsException>(() => OnnxModel.FromProto(proto));
        Assert.Equal(before, rt.Plugins.Count);
        Assert.DoesNotContain(System.Runtime.Loader.AssemblyLoadContext.All.SelectMany(c => c.Assemblies), a => a.GetName().Name == "SamplePlugin");
    }
}
