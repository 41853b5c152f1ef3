namespace Backprop.Plugins.Core;

/// <summary>The axes and shapes of one reduction (attributes "axes", empty = all, and "keepdims").</summary>
internal sealed record ReduceAxes(int[] Axes, bool KeepDims, Shape Input, Shape Kept, Shape Output)
{
    public static ReduceAxes Of(OpContext ctx, Shape input)
    {
        var raw = ctx.Attributes.GetInts("axes", []);
        var axes = raw.Length == 0
            ? Enumerable.Range(0, input.Rank).ToArray()
            : raw.Select(a => Shape.NormalizeAxis(a, input.Rank)).Distinct().Order().ToArray();
        var keep = ctx.Attributes.GetLong("keepdims", 1) != 0;
        var kept = input.ToArray();
        foreach (var a in axes) kept[a] = 1;
        var output = keep ? kept : kept.Where((_, i) => !axes.Contains(i)).ToArray();
        return new ReduceAxes(axes, keep, input, new Shape(kept), new Shape(output));
    }

    /// <summary>Number of input elements folded into each output element.</summary>
    public int Count => Axes.Aggregate(1, (n, a) => n * Input.Dims[a]);

    /// <summary>Output strides seen from the input: 0 on reduced axes.</summary>
    public int[] ScatterStrides()
    {
        var s = Kept.Strides();
        foreach (var a in Axes) s[a] = 0;
        return s;
    }

    /// <summary>Brings a gradient of the output shape back to the input shape.</summary>
    public Tensor Spread(Tensor g) => Ops.Expand(Ops.Reshape(g, Kept.ToArray()), Input);
}

/// <summary>Reduction kernels.</summary>
internal static class ReduceKernels
{
    public static Tensor Sum(Tensor x, ReduceAxes r)
    {
        var y = Tensor.Zeros(r.Kept, x.DType);
        switch (x.DType)
        {
            case DType.Float32: SumBlocks(x.Span<float>(), y.Span<float>(), r); break;
            case DType.Float64: SumBlocks(x.Span<double>(), y.Span<double>(), r); break;
            default: throw new DTypeException($"Reductions take float32 or float64, got {x.DType}.");
        }
        return y.ViewAs(r.Output);
    }

    /// <summary>
    /// Sums over the reduced axes after merging neighbouring axes of the same kind into blocks, so the innermost
    /// block is one contiguous run: summed to a scalar (reduced) or added as a vector (kept), both SIMD.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void SumBlocks<T>(ReadOnlySpan<T> x, Span<T> y, ReduceAxes r) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (x.Length == 0) return;
        var sizes = new List<int>();
        var reduced = new List<bool>();
        for (var d = 0; d < r.Input.Rank; d++)
        {
            var isReduced = r.Axes.Contains(d);
            var size = r.Input.Dims[d];
            if (size == 1) continue;
            if (reduced.Count > 0 && reduced[^1] == isReduced) sizes[^1] *= size;
            else { sizes.Add(size); reduced.Add(isReduced); }
        }
        if (sizes.Count == 0) { y[0] += x[0]; return; }
        var outStrides = new int[sizes.Count];
        var acc = 1;
        for (var b = sizes.Count - 1; b >= 0; b--)
        {
            outStrides[b] = reduced[b] ? 0 : acc;
            if (!reduced[b]) acc *= sizes[b];
        }
        var inner = sizes[^1];
        var innerReduced = reduced[^1];
        var outer = sizes.Count - 1;
        var index = new int[Math.Max(outer, 1)];
        var o = 0;
        for (var start = 0; start < x.Length; start += inner)
        {
            var run = x.Slice(start, inner);
            if (innerReduced) y[o] += System.Numerics.Tensors.TensorPrimitives.Sum(run);
            else System.Numerics.Tensors.TensorPrimitives.Add(y.Slice(o, inner), run, y.Slice(o, inner));
            for (var b = outer - 1; b >= 0; b--)
            {
                o += outStrides[b];
                if (++index[b] < sizes[b]) break;
                o -= outStrides[b] * index[b];
                index[b] = 0;
            }
        }
    }

    public static Tensor Product(Tensor x, ReduceAxes r)
    {
        var y = Tensor.Empty(r.Kept, x.DType);
        switch (x.DType)
        {
            case DType.Float32: Multiply(x.Span<float>(), y.Span<float>(), r); break;
            case DType.Float64: Multiply(x.Span<double>(), y.Span<double>(), r); break;
            default: throw new DTypeException($"Reductions take float32 or float64, got {x.DType}.");
        }
        return y.ViewAs(r.Output);
    }

    private static void Multiply<T>(ReadOnlySpan<T> x, Span<T> y, ReduceAxes r) where T : System.Numerics.IFloatingPointIeee754<T>
    {
        y.Fill(T.One);
        var strides = r.ScatterStrides();
        var dims = r.Input.Dims;
        var index = new int[dims.Length];
        var pos = 0;
        for (var i = 0; i < x.Length; i++)
        {
            y[pos] *= x[i];
            for (var d = dims.Length - 1; d >= 0; d--)
            {
                pos += strides[d];
                if (++index[d] < dims[d]) break;
                pos -= strides[d] * index[d];
                index[d] = 0;
            }
        }
    }

    /// <summary>
    /// Maximum or minimum over the reduced axes; over an empty set it is the operation's identity, −∞ or +∞ (as ONNX's
    /// ReduceMax and ReduceMin define it).
    /// </summary>
    public static Tensor Extreme(Tensor x, ReduceAxes r, bool max)
    {
        var y = Tensor.Empty(r.Kept, x.DType);
        switch (x.DType)
        {
            case DType.Float32: Fold(x.Span<float>(), y.Span<float>(), r, max); break;
            case DType.Float64: Fold(x.Span<double>(), y.Span<double>(), r, max); break;
            default: throw new DTypeException($"Reductions take float32 or float64, got {x.DType}.");
        }
        return y.ViewAs(r.Output);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Fold<T>(ReadOnlySpan<T> x, Span<T> y, ReduceAxes r, bool max) where T : System.Numerics.IFloatingPointIeee754<T>
    {
        y.Fill(max ? T.NegativeInfinity : T.PositiveInfinity);
        var strides = r.ScatterStrides();
        var dims = r.Input.Dims;
        var index = new int[dims.Length];
        var pos = 0;
        for (var i = 0; i < x.Length; i++)
        {
            var v = x[i];
            if (T.IsNaN(v) || (max ? v > y[pos] : v < y[pos])) y[pos] = v;
            for (var d = dims.Length - 1; d >= 0; d--)
            {
                pos += strides[d];
                if (++index[d] < dims[d]) break;
                pos -= strides[d] * index[d];
                index[d] = 0;
            }
        }
    }
}

/// <summary>Sample inputs for reductions: several ranks, axes and keepdims settings.</summary>
internal static class ReduceSamples
{
    /// <summary>Shuffled values 0.1 apart (plus small noise), so maxima are unique and stable under small steps.</summary>
    public static Tensor Distinct(Random rng, int[] shape)
    {
        var shape1 = new Shape(shape);
        var values = Enumerable.Range(0, shape1.Size).Select(i => (i - shape1.Size / 2.0) * 0.1 + 0.02 * rng.NextDouble()).ToArray();
        rng.Shuffle(values);
        return Tensor.FromDoubles(values, shape1, DType.Float64);
    }

    public static IEnumerable<OpSample> Generate(Random rng)
    {
        var cases = new (int[] Shape, int[] Axes, bool Keep)[]
        {
            ([7], [], false), ([3, 4], [1], false), ([3, 4], [0], true), ([2, 3, 4], [0, 2], false),
            ([2, 3, 4], [-1], true), ([2, 3, 4], [], true), ([5], [0], true), ([], [], false), ([33], [], false),
        };
        foreach (var (shape, axes, keep) in cases)
        {
            yield return new OpSample($"{new Shape(shape)} axes [{string.Join(",", axes)}] keepdims {keep}",
                [Distinct(rng, shape)], OpAttributes.Of(("axes", axes), ("keepdims", keep ? 1 : 0)));
        }
    }
}
