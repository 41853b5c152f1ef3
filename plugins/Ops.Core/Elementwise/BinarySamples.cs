namespace Backprop.Plugins.Core;

/// <summary>Sample inputs for broadcasting binary ops: a same-shape length sweep and broadcasting pairs.</summary>
internal static class BinarySamples
{
    public static IEnumerable<OpSample> Generate(Random rng, (double Lo, double Hi) a, (double Lo, double Hi) b)
    {
        foreach (var n in SampleShapes.ElementwiseLengths)
            yield return new OpSample($"length {n}", U(rng, [n], a), U(rng, [n], b));
        foreach (var (sa, sb) in SampleShapes.BroadcastPairs)
            yield return new OpSample($"{new Shape(sa)} with {new Shape(sb)}", U(rng, sa, a), U(rng, sb, b));
    }

    public static Tensor U(Random rng, int[] shape, (double Lo, double Hi) range) =>
        Tensor.Uniform(new Shape(shape), rng, range.Lo, range.Hi, DType.Float64);
}
