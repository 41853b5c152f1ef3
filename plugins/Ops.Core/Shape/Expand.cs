namespace Backprop.Plugins.Core;

/// <summary>Broadcasts to attribute "shape" (NumPy rules, ONNX Expand). The VJP sums back over broadcast axes.</summary>
internal sealed class Expand : LinearOp, IOpSamples
{
    public override OpSchema Schema { get; } = OpSchema.Of("Expand", 1);

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var target = Shape.Broadcast(x[0].Shape, new Shape(ctx.Attributes.GetInts("shape")));
        return [Strided.Gather(x[0], 0, x[0].Shape.BroadcastStrides(target), target)];
    }

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) => [Ops.SumTo(g[0]!, ctx.Input(0).Shape)];

    public IEnumerable<OpSample> Samples(Random rng)
    {
        yield return ShapeSamples.One(rng, [3, 1], ("shape", new[] { 2, 3, 4 }));
        yield return ShapeSamples.One(rng, [], ("shape", new[] { 5 }));
        yield return ShapeSamples.One(rng, [1, 4], ("shape", new[] { 3, 1 }));
    }
}
