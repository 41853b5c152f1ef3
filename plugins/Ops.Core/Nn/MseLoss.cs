namespace Backprop.Plugins.Core;

/// <summary>Mean squared error, mean((a − b)²), composed of Sub, Mul and ReduceMean (shapes broadcast).</summary>
internal sealed class MseLoss : CompositeOp, IOpSamples
{
    public override OpSchema Schema { get; } = new(Ops.BackpropDomain, "MseLoss", 1, 2, 2);

    public override Tensor[] Compose(ReadOnlySpan<Tensor> x, OpAttributes attributes)
    {
        var d = Ops.Sub(x[0], x[1]);
        return [Ops.ReduceMean(Ops.Mul(d, d))];
    }

    public IEnumerable<OpSample> Samples(Random rng)
    {
        yield return new OpSample("[4,3]", BinarySamples.U(rng, [4, 3], (-2, 2)), BinarySamples.U(rng, [4, 3], (-2, 2)));
        yield return new OpSample("[5]", BinarySamples.U(rng, [5], (-2, 2)), BinarySamples.U(rng, [5], (-2, 2)));
    }
}
