namespace Backprop.Plugins.Core;

/// <summary>Shared pieces of derivative rules.</summary>
internal static class Grad
{
    /// <summary>The gradient for input <paramref name="i"/>, summed back over broadcast dimensions; null if not needed.</summary>
    public static Tensor? To(OpContext ctx, int i, Tensor? g) =>
        g is null || !ctx.NeedsInputGrad[i] ? null : Ops.SumTo(g, ctx.Input(i).Shape);

    /// <summary>A scalar constant of <paramref name="like"/>'s dtype.</summary>
    public static Tensor C(Tensor like, double value) => Tensor.Scalar(value, like.DType);

    /// <summary>A bool mask as a 0/1 tensor of <paramref name="like"/>'s dtype.</summary>
    public static Tensor Mask(Tensor mask, Tensor like) => Ops.Cast(mask, like.DType);

    /// <summary>Sum of two possibly-null contributions.</summary>
    public static Tensor? Plus(Tensor? a, Tensor? b) => a is null ? b : b is null ? a : Ops.Add(a, b);
}
