namespace Backprop.Plugins.Core;

/// <summary>y = x.flat[indices] (int64 indices into the flattened x; y has the indices' shape). Linear in x.</summary>
internal sealed class IndexGather : LinearOp, IOpSamples
{
    public static readonly IndexGather Instance = new();

    public override OpSchema Schema { get; } = new(Ops.BackpropDomain, "IndexGather", 1, 2, 2);

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var y = Tensor.Empty(x[1].Shape, x[0].DType);
        if (y.DType == DType.Float32) Take(x[0].Span<float>(), x[1].Span<long>(), y.Span<float>());
        else Take(x[0].Span<double>(), x[1].Span<long>(), y.Span<double>());
        return [y];
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Take<T>(ReadOnlySpan<T> src, ReadOnlySpan<long> idx, Span<T> dst)
    {
        for (var i = 0; i < idx.Length; i++) dst[i] = src[(int)idx[i]];
    }

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) =>
        [Ops.Call(IndexScatter.Instance, OpAttributes.Of(("shape", ctx.Input(0).Shape.ToArray())), g[0]!, ctx.Input(1)), null];

    public IEnumerable<OpSample> Samples(Random rng)
    {
        yield return new OpSample("repeats", BinarySamples.U(rng, [3, 4], (-2, 2)), Tensor.FromArray(new long[] { 0, 5, 5, 11, 3, 0 }, 2, 3));
    }
}

/// <summary>Adds g into zeros of attribute shape at flat positions indices (repeats accumulate). Linear in g; adjoint of <see cref="IndexGather"/>.</summary>
internal sealed class IndexScatter : LinearOp, IOpSamples
{
    public static readonly IndexScatter Instance = new();

    public override OpSchema Schema { get; } = new(Ops.BackpropDomain, "IndexScatter", 1, 2, 2);

    public override Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        var shape = new Shape(ctx.Attributes.GetInts("shape"));
        var idx = x[1].Span<long>();
        var y = Tensor.Zeros(shape, x[0].DType);
        if (y.DType == DType.Float32) Add(x[0].Span<float>(), idx, y.Span<float>());
        else Add(x[0].Span<double>(), idx, y.Span<double>());
        return [y];
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Add<T>(ReadOnlySpan<T> src, ReadOnlySpan<long> idx, Span<T> dst) where T : System.Numerics.IAdditionOperators<T, T, T>
    {
        if (src.Length != idx.Length) throw new ShapeException($"IndexScatter: {src.Length} values for {idx.Length} indices.");
        for (var i = 0; i < idx.Length; i++) dst[(int)idx[i]] += src[i];
    }

    public override Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) =>
        [Ops.Call(IndexGather.Instance, OpAttributes.Empty, g[0]!, ctx.Input(1)), null];

    public IEnumerable<OpSample> Samples(Random rng)
    {
        yield return new OpSample("repeats", [BinarySamples.U(rng, [5], (-2, 2)), Tensor.FromArray(new long[] { 1, 1, 4, 0, 2 })], OpAttributes.Of(("shape", new[] { 2, 3 })));
    }
}
