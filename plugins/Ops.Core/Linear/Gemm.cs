namespace Backprop.Plugins.Core;

/// <summary>
/// ONNX Gemm, Y = alpha·op(A)·op(B) + beta·C, composed of MatMul, Mul and Add (C broadcasts). When nothing is recorded, one
/// fused call: beta·C is written into the output and the routed GEMM accumulates alpha·op(A)·op(B) onto it.
/// </summary>
internal sealed class Gemm : CompositeOp, IFusedKernel, IOpSamples
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

    public Tensor[] RunFused(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var (a, b) = (x[0], x[1]);
        var c = x.Length == 3 ? x[2] : null;
        var attributes = ctx.Attributes;
        var (ta, tb) = (attributes.GetLong("transA", 0) != 0, attributes.GetLong("transB", 0) != 0);
        // The fused call covers float operands of one dtype, a non-empty product and C of shape [], [N], [1|M, 1|N];
        // anything else composes (and reports bad shapes as the composition does).
        if (a.Rank != 2 || b.Rank != 2 || !a.DType.IsFloatingPoint() || b.DType != a.DType || c is not null && c.DType != a.DType) return Compose(x, attributes);
        var (m, k) = ta ? (a.Shape[1], a.Shape[0]) : (a.Shape[0], a.Shape[1]);
        var (k2, n) = tb ? (b.Shape[1], b.Shape[0]) : (b.Shape[0], b.Shape[1]);
        if (k != k2 || m == 0 || n == 0 || k == 0) return Compose(x, attributes);
        var (cRows, cCols) = c is null ? (0, 0) : c.Rank switch { 0 => (1, 1), 1 => (1, c.Shape[0]), 2 => (c.Shape[0], c.Shape[1]), _ => (-1, -1) };
        if (c is not null && (cRows != 1 && cRows != m || cCols != 1 && cCols != n)) return Compose(x, attributes);
        var y = Tensor.Empty(new Shape(m, n), a.DType);
        var gemm = ctx.Kernels.Get<IGemmRouter>().Select(ctx.Kernels, ta, tb, m, n, k, a.DType);
        var (alpha, beta) = (attributes.GetDouble("alpha", 1), attributes.GetDouble("beta", 1));
        if (a.DType == DType.Float32)
        {
            if (c is not null) Fill(c.Span<float>(), cRows, cCols, (float)beta, y.Span<float>(), m, n);
            gemm.Gemm(ta, tb, m, n, k, (float)alpha, a.Span<float>(), a.Shape[1], b.Span<float>(), b.Shape[1], c is null ? 0f : 1f, y.Span<float>(), n);
        }
        else
        {
            if (c is not null) Fill(c.Span<double>(), cRows, cCols, beta, y.Span<double>(), m, n);
            gemm.Gemm(ta, tb, m, n, k, alpha, a.Span<double>(), a.Shape[1], b.Span<double>(), b.Shape[1], c is null ? 0d : 1d, y.Span<double>(), n);
        }
        return [y];
    }

    /// <summary>y[i, j] = beta·C[i or 0, j or 0] for C of cRows × cCols broadcast to m × n.</summary>
    private static void Fill<T>(ReadOnlySpan<T> c, int cRows, int cCols, T beta, Span<T> y, int m, int n) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        for (var i = 0; i < m; i++)
        {
            var row = y.Slice(i * n, n);
            var source = c.Slice((cRows == 1 ? 0 : i) * cCols, cCols);
            if (cCols == 1) row.Fill(source[0] * beta);
            else if (beta == T.One) source.CopyTo(row);
            else System.Numerics.Tensors.TensorPrimitives.Multiply(source, beta, row);
        }
    }

    public IEnumerable<OpSample> Samples(Random rng)
    {
        Tensor U(params int[] s) => BinarySamples.U(rng, s, (-1, 1));
        yield return new OpSample("A·B + c", U(3, 4), U(4, 2), U(2));
        yield return new OpSample("alpha, beta, transB", [U(3, 4), U(2, 4), U(3, 2)], OpAttributes.Of(("alpha", 0.5), ("beta", 2.0), ("transB", 1)));
        yield return new OpSample("no C, transA", [U(4, 3), U(4, 2)], OpAttributes.Of(("transA", 1)));
        yield return new OpSample("C [M, 1], both transposed", [U(4, 3), U(2, 4), U(3, 1)], OpAttributes.Of(("transA", 1), ("transB", 1), ("beta", 0.5)));
        yield return new OpSample("scalar C", [U(3, 4), U(4, 2), U(1, 1)], OpAttributes.Of(("alpha", 2.0)));
    }
}
