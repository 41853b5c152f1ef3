[assembly: Backprop.BackpropPlugin(typeof(ThrowingPlugin.ThrowingModule))]

namespace ThrowingPlugin;

/// <summary>Registers one op, then throws: the runtime must keep none of it.</summary>
public sealed class ThrowingModule : Backprop.IOpModule
{
    public void Register(Backprop.IOpRegistry registry)
    {
        registry.AddOp(new HalfRegistered());
        throw new InvalidOperationException("deliberate failure in Register");
    }
}

public sealed class HalfRegistered : Backprop.IDifferentiableOp
{
    public Backprop.OpSchema Schema { get; } = new("com.example.throwing", "HalfRegistered", 1, 1, 1);

    public Backprop.Tensor[] Forward(Backprop.OpContext ctx, ReadOnlySpan<Backprop.Tensor> inputs) => [inputs[0].Clone()];

    public Backprop.Tensor?[] Vjp(Backprop.OpContext ctx, ReadOnlySpan<Backprop.Tensor?> g) => [g[0]];

    public Backprop.Tensor?[] Jvp(Backprop.OpContext ctx, ReadOnlySpan<Backprop.Tensor?> t) => [t[0]];
}
