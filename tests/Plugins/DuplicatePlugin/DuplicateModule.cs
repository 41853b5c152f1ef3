[assembly: Backprop.BackpropPlugin(typeof(DuplicatePlugin.DuplicateModule))]

namespace DuplicatePlugin;

/// <summary>Claims Ops.Core's key for Relu without an override: must be refused, naming both plugins.</summary>
public sealed class DuplicateModule : Backprop.IOpModule
{
    public void Register(Backprop.IOpRegistry registry) => registry.AddOp(new FakeRelu());
}

public sealed class FakeRelu : Backprop.IDifferentiableOp
{
    public Backprop.OpSchema Schema { get; } = Backprop.OpSchema.Of("Relu", 1);

    public Backprop.Tensor[] Forward(Backprop.OpContext ctx, ReadOnlySpan<Backprop.Tensor> inputs) => [inputs[0].Clone()];

    public Backprop.Tensor?[] Vjp(Backprop.OpContext ctx, ReadOnlySpan<Backprop.Tensor?> g) => [g[0]];

    public Backprop.Tensor?[] Jvp(Backprop.OpContext ctx, ReadOnlySpan<Backprop.Tensor?> t) => [t[0]];
}
