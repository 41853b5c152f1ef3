namespace Backprop.Plugins.Core;

/// <summary>ONNX Gemm, Y = alpha·op(A)·op(B) + beta·C, composed of MatMul, Mul and Add (C broadcasts).</summary>
internal sealed class Gemm : CompositeOp, IOpSamples
{
    public override OpSchema Schema { get; } = new("", "Gemm", 1, 2, 3);

    public override Tensor[] Compose(ReadOnlySpan<Tensor> x, OpAttributes attributes)
    {
        var (a, b) = (x[0], x[1]);
        if (a.Rank != 2 || b.Rank != 2) throw new ShapeException($"Gemm takes 2-D A and B, got {a.Shape} and {b.Shape}.");
        var alpha = attributes.GetDouble("alpha", 1);
        var beta = attributes.GetDouble("beta", 1);
        var y = Ops.MatMul(a, b, attributes.GetLong("transA", 0) != 0, attributes.GetLong("transB", 0) != 0);
        if (alpha != 1) y = Ops.Mul(y, Grad.C(y, alpha));
        if (x.Length == 3)
        {
            var c = beta == 1 ? x[2] : Ops.Mul(x[2], Grad.C(x[2], beta));
            y = Ops.Add(y, c);
        }
        return [y];
    }

    public IEnumerable<OpSample> Samples(Random rng)
    {
        Tensor U(params int[] s) => BinarySamples.U(rng, s, (-1, 1));
        yield return new OpSample("A·B + c", U(3, 4), U(4, 2), U(2));
        yield return new OpSample("alpha, beta, transB", [U(3, 4), U(2, 4), U(3, 2)], OpAttributes.Of(("alpha", 0.5), ("beta", 2.0), ("transB", 1)));
        yield return new OpSample("no C, transA", [U(4, 3), U(4, 2)], OpAttributes.Of(("transA", 1)));
    }
}
