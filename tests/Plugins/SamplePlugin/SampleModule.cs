[assembly: Backprop.BackpropPlugin(typeof(SamplePlugin.SampleModule))]

namespace SamplePlugin;

/// <summary>A third-party-style plugin: a fused op with rules in differentiable ops, and a once-differentiable op.</summary>
public sealed class SampleModule : Backprop.IOpModule
{
    public void Register(Backprop.IOpRegistry registry)
    {
        registry.AddOp(new SquarePlusSin());
        registry.AddOp(new RawCube());
    }
}
