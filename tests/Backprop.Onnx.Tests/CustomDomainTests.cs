using Backprop.Onnx.Proto;
using Backprop.Runtime;

namespace Backprop.Onnx.Tests;

/// <summary>Custom ONNX domains: nodes served by a node importer a plugin contributes.</summary>
public class CustomDomainTests
{
    private static string ImporterPlugin => Path.Combine(TestData.RepoRoot, "artifacts", "testplugins", "ImporterPlugin", "ImporterPlugin.dll");

    private static ModelProto SoftThresholdModel()
    {
        var graph = new GraphProto { Name = "custom" };
        graph.Input.Add(TestData.Value("x", TensorProto.Types.DataType.Float, 5));
        graph.Output.Add(TestData.Value("y", TensorProto.Types.DataType.Float, 5));
        var node = TestData.Node("SoftThreshold", ["x"], ["y"], "shrink", new AttributeProto { Name = "threshold", Type = AttributeProto.Types.AttributeType.Float, F = 0.5f });
        node.Domain = "com.example.mapped";
        graph.Node.Add(node);
        var model = TestData.Model(graph);
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.example.mapped", Version = 1 });
        return model;
    }

    [Fact]
    public void A_plugin_contributed_node_importer_maps_a_custom_domain_node_and_it_differentiates()
    {
        var rt = BackpropRuntime.Create(new RuntimeOptions { PluginPaths = { ImporterPlugin } });
        Assert.Empty(rt.PluginFailures);
        using var _ = rt.Activate();
        var model = OnnxModel.FromProto(SoftThresholdModel());
        var x = Tensor.FromArray([-2f, -0.25f, 0f, 0.75f, 3f], 5);
        x.RequiresGrad = true;
        var y = model.Run(new Dictionary<string, Tensor> { ["x"] = x })["y"];
        Assert.Equal([-1.5f, 0f, 0f, 0.25f, 2.5f], y.ToFloatArray());
        Ops.Sum(y).Backward();
        Assert.Equal([1f, 0f, 0f, 1f, 1f], x.Grad!.ToFloatArray());
    }

    [Fact]
    public void Without_the_plugin_the_custom_node_is_reported_before_anything_runs()
    {
        var rt = BackpropRuntime.Create(new RuntimeOptions());
        using var _ = rt.Activate();
        var e = Assert.Throws<UnsupportedOpsException>(() => OnnxModel.FromProto(SoftThresholdModel()));
        Assert.Contains(e.Nodes, n => n.Contains("SoftThreshold") && n.Contains("com.example.mapped") && n.Contains("shrink"));
    }
}
