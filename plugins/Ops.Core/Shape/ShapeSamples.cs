namespace Backprop.Plugins.Core;

/// <summary>Sample helpers for shape ops.</summary>
internal static class ShapeSamples
{
    public static OpSample One(Random rng, int[] shape, params (string, object)[] attrs) =>
        new($"{new Shape(shape)} {OpAttributes.Of(attrs)}", [BinarySamples.U(rng, shape, (-2, 2))], OpAttributes.Of(attrs));
}
