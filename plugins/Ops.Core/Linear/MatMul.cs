namespace Backprop.Plugins.Core;

/// <summary>
/// Batched, broadcasting op(A)·op(B) for rank ≥ 2 (attributes transA, transB select op). Both products of
/// the VJP are GEMMs with transpose flags — no transposed copies, no Jacobian — summed back over
/// broadcast batch axes. Bilinear, so the JVP is ta·b + a·tb.
/// </summary>
internal sealed class MatMul : BilinearOp, IOpSamples
{
    public override OpSchema Schema { get; } = OpSchema.Of("MatMul", 2);

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var (a, b) = (x[0], x[1]);
        var ta = ctx.Attributes.GetLong("transA", 0) != 0;
        var tb = ctx.Attributes.GetLong("transB", 0) != 0;
        var dtype = Broadcast.FloatOperands("MatMul", a, b);
        if (a.Rank < 2 || b.Rank < 2) throw new ShapeException($"MatMul op takes rank ≥ 2 (Ops.MatMul handles 1-D); got {a.Shape} and {b.Shape}.");
        var (ar, ac) = (a.Shape[-2], a.Shape[-1]);
        var (br, bc) = (b.Shape[-2], b.Shape[-1]);
        var (m, k) = ta ? (ac, ar) : (ar, ac);
        var (k2, n) = tb ? (bc, br) : (br, bc);
        if (k != k2) throw new ShapeException($"MatMul: inner dimensions differ: op(A) is {m}×{k}, op(B) is {k2}×{n} (A {a.Shape}, B {b.Shape}, transA={ta}, transB={tb}).");
        var batchA = new Shape(a.Shape.Dims[..^2].ToArray());
        var batchB = new Shape(b.Shape.Dims[..^2].ToArray());
        var batch = Shape.Broadcast(batchA, batchB);
        var y = Tensor.Empty(new Shape([.. batch.Dims, m, n]), dtype); // every backend overwrites C when beta = 0
        var sa = batchA.BroadcastStrides(batch);
        var sb = batchB.BroadcastStrides(batch);
        var router = ctx.Kernels.Get<IGemmRouter>();
        if (batchB.Rank == 0 && !ta && batch.Size > 1)
        {
            // A stack of matrices times one matrix (a linear layer over [batch, tokens, features]) is one tall GEMM.
            var rows = batch.Size * m;
            var tall = router.Select(ctx.Kernels, false, tb, rows, n, k, dtype);
            if (dtype == DType.Float32) tall.Gemm(false, tb, rows, n, k, 1f, a.Span<float>(), ac, b.Span<float>(), bc, 0f, y.Span<float>(), n);
            else tall.Gemm(false, tb, rows, n, k, 1d, a.Span<double>(), ac, b.Span<double>(), bc, 0d, y.Span<double>(), n);
            return [y];
        }
        var gemm = router.Select(ctx.Kernels, ta, tb, m, n, k, dtype);
        var (sizeA, sizeB, sizeY) = (ar * ac, br * bc, m * n);
        void One(int bi)
        {
            int oa = 0, ob = 0, rest = bi;
            for (var d = batch.Rank - 1; d >= 0; d--)
            {
                var i = rest % batch.Dims[d];
                rest /= batch.Dims[d];
                oa += i * sa[d];
                ob += i * sb[d];
            }
            if (dtype == DType.Float32)
                gemm.Gemm(ta, tb, m, n, k, 1f, a.Span<float>().Slice(oa * sizeA, sizeA), ac, b.Span<float>().Slice(ob * sizeB, sizeB), bc, 0f, y.Span<float>().Slice(bi * sizeY, sizeY), n);
            else
                gemm.Gemm(ta, tb, m, n, k, 1d, a.Span<double>().Slice(oa * sizeA, sizeA), ac, b.Span<double>().Slice(ob * sizeB, sizeB), bc, 0d, y.Span<double>().Slice(bi * sizeY, sizeY), n);
        }
        // Many small products (attention heads): one per core at a time, each single-threaded, instead of a fork-join
        // inside every small GEMM. Large products keep the GEMM's own threading.
        if (batch.Size > 1 && (long)m * n * k <= SmallProduct) KernelThreads.For(batch.Size, Environment.ProcessorCount, One);
        else
        {
            for (var bi = 0; bi < batch.Size; bi++) One(bi);
        }
        return [y];
    }

    /// <summary>Multiply-adds up to which the matrices of a batch run side by side rather than one after another.</summary>
    private const long SmallProduct = 1L << 22;

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> gs)
    {
        var (a, b, g) = (ctx.Input(0), ctx.Input(1), gs[0]!);
        var ta = ctx.Attributes.GetLong("transA", 0) != 0;
        var tb = ctx.Attributes.GetLong("transB", 0) != 0;
        Tensor? ga = null, gb = null;
        if (ctx.NeedsInputGrad[0])
            ga = ta ? Ops.MatMul(b, g, transA: tb, transB: true) : Ops.MatMul(g, b, transA: false, transB: !tb);
        if (ctx.NeedsInputGrad[1])
        {
            if (b.Rank == 2 && a.Rank > 2 && !ta)
            {
                // One matrix applied to a stack (a linear layer over [batch, tokens, features]): its gradient sums over the
                // stack, which is one GEMM over the flattened rows (K = batch · tokens) — not a product per matrix of the
                // stack summed afterwards. MiniLM's weight gradients: 8 products with K = 128 plus a reduction → one product.
                var rows = a.Shape.Size / a.Shape[-1];
                var (a2, g2) = (Ops.Reshape(a, rows, a.Shape[-1]), Ops.Reshape(g, rows, g.Shape[-1]));
                gb = tb ? Ops.MatMul(g2, a2, transA: true) : Ops.MatMul(a2, g2, transA: true);
            }
            else gb = tb ? Ops.MatMul(g, a, transA: true, transB: ta) : Ops.MatMul(a, g, transA: !ta, transB: false);
        }
        return [ga is null ? null : Ops.SumTo(ga, a.Shape), gb is null ? null : Ops.SumTo(gb, b.Shape)];
    }

    public IEnumerable<OpSample> Samples(Random rng)
    {
        Tensor U(params int[] s) => BinarySamples.U(rng, s, (-1, 1));
        yield return new OpSample("3x4 · 4x5", U(3, 4), U(4, 5));
        yield return new OpSample("1x1 · 1x7", U(1, 1), U(1, 7));
        yield return new OpSample("batched 2x3x4 · 2x4x2", U(2, 3, 4), U(2, 4, 2));
        yield return new OpSample("broadcast 2x1x3x4 · 5x4x2", U(2, 1, 3, 4), U(5, 4, 2));
        yield return new OpSample("broadcast 3x4 · 2x4x5", U(3, 4), U(2, 4, 5));
        yield return new OpSample("stack 2x2x3x4 · 4x5 (a linear layer)", U(2, 2, 3, 4), U(4, 5));
        foreach (var (ta, tb) in new[] { (true, false), (false, true), (true, true) })
        {
            var a = ta ? U(2, 4, 3) : U(2, 3, 4);
            var b = tb ? U(5, 4) : U(4, 5);
            yield return new OpSample($"transA={ta} transB={tb}", [a, b], OpAttributes.Of(("transA", ta ? 1 : 0), ("transB", tb ? 1 : 0)));
        }
    }
}
