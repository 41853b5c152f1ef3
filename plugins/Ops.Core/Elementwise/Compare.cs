namespace Backprop.Plugins.Core;

/// <summary>Comparisons with broadcasting, producing bool tensors; their derivative is zero (no gradient flows).</summary>
internal abstract class CompareOp : IDifferentiableOp, IOpSamples
{
    public abstract OpSchema Schema { get; }

    protected abstract void Run(Tensor a, Tensor b, Tensor y);

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x)
    {
        if (x[0].DType != x[1].DType) throw new DTypeException($"{Schema.Name}: operands have dtypes {x[0].DType} and {x[1].DType}.");
        var y = Tensor.Zeros(Shape.Broadcast(x[0].Shape, x[1].Shape), DType.Bool);
        Run(x[0], x[1], y);
        return [y];
    }

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) => [null, null];

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t) => [null];

    /// <summary>Float operands 0.1 apart or more: the comparison is locally constant, so every derivative is zero.</summary>
    public IEnumerable<OpSample> Samples(Random rng)
    {
        var b = Enumerable.Range(0, 12).Select(_ => rng.NextDouble() * 4 - 2).ToArray();
        var a = b.Select(v => v + (rng.Next(2) * 2 - 1) * (0.1 + rng.NextDouble())).ToArray();
        yield return new OpSample("[3,4] with [4]", Tensor.FromDoubles(a, new Shape(3, 4), DType.Float64), Tensor.FromDoubles(b[..4], new Shape(4), DType.Float64));
    }
}

/// <summary>a &gt; b.</summary>
internal sealed class Greater : CompareOp
{
    public override OpSchema Schema { get; } = OpSchema.Of("Greater", 2);

    protected override void Run(Tensor a, Tensor b, Tensor y)
    {
        switch (a.DType)
        {
            case DType.Float32: Broadcast.Run<GreaterK<float>, float, bool>(a, b, y); break;
            case DType.Float64: Broadcast.Run<GreaterK<double>, double, bool>(a, b, y); break;
            case DType.Int64: Broadcast.Run<GreaterK<long>, long, bool>(a, b, y); break;
            default: throw new DTypeException($"Greater does not take {a.DType}.");
        }
    }
}

/// <summary>a &lt; b.</summary>
internal sealed class Less : CompareOp
{
    public override OpSchema Schema { get; } = OpSchema.Of("Less", 2);

    protected override void Run(Tensor a, Tensor b, Tensor y)
    {
        switch (a.DType)
        {
            case DType.Float32: Broadcast.Run<LessK<float>, float, bool>(a, b, y); break;
            case DType.Float64: Broadcast.Run<LessK<double>, double, bool>(a, b, y); break;
            case DType.Int64: Broadcast.Run<LessK<long>, long, bool>(a, b, y); break;
            default: throw new DTypeException($"Less does not take {a.DType}.");
        }
    }
}

/// <summary>a == b.</summary>
internal sealed class Equal : CompareOp
{
    public override OpSchema Schema { get; } = OpSchema.Of("Equal", 2);

    protected override void Run(Tensor a, Tensor b, Tensor y)
    {
        switch (a.DType)
        {
            case DType.Float32: Broadcast.Run<EqualK<float>, float, bool>(a, b, y); break;
            case DType.Float64: Broadcast.Run<EqualK<double>, double, bool>(a, b, y); break;
            case DType.Int64: Broadcast.Run<EqualK<long>, long, bool>(a, b, y); break;
            case DType.Bool: Broadcast.Run<EqualK<bool>, bool, bool>(a, b, y); break;
        }
    }
}
