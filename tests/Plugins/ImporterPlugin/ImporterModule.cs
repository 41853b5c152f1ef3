using Backprop;
using Backprop.Onnx;

[assembly: BackpropPlugin(typeof(ImporterPlugin.ImporterModule))]

namespace ImporterPlugin;

/// <summary>
/// Registers an importer for the node com.example.mapped::SoftThreshold(x; attribute "threshold" t), which it maps onto
/// standard ops: y = sign(x)·relu(|x| − t) — an attribute that needs computing with, not passing through.
/// </summary>
public sealed class ImporterModule : IOpModule
{
    public void Register(IOpRegistry registry) => registry.AddKernel<INodeImporter>(new SoftThresholdImporter());
}

public sealed class SoftThresholdImporter : INodeImporter
{
    public string OpType => "SoftThreshold";

    public string Domain => "com.example.mapped";

    public Tensor?[] Run(NodeContext ctx)
    {
        var x = ctx.Input(0);
        var t = ctx.Float("threshold", 0.5f);
        if (t < 0) throw ctx.Error($"threshold must be non-negative, got {t}.");
        return [Ops.Mul(Ops.Sign(x), Ops.Relu(Ops.Sub(Ops.Abs(x), Ops.ScalarLike(x, t))))];
    }
}
