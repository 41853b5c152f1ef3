[assembly: Backprop.BackpropPlugin(typeof(Example.SampleOps.SampleOpsModule))]

namespace Example.SampleOps;

/// <summary>Registers the sample's ops in the custom ONNX domain <see cref="Domain"/>.</summary>
public sealed class SampleOpsModule : Backprop.IOpModule
{
    /// <summary>The custom ONNX domain of these ops; a model's nodes with this domain resolve to them.</summary>
    public const string Domain = "com.example";

    public void Register(Backprop.IOpRegistry registry)
    {
        registry.AddOp(new ScaledSwish());
        registry.AddOp(new LogCosh());
    }
}
