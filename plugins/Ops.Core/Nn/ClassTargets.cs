namespace Backprop.Plugins.Core;

/// <summary>Validates int64 class targets against [N, C] scores and builds their one-hot matrix.</summary>
internal static class ClassTargets
{
    public static long[] Check(string op, Tensor scores, Tensor target)
    {
        if (scores.Rank != 2) throw new ShapeException($"{op}: scores must be [N, C], got {scores.Shape}.");
        if (!scores.DType.IsFloatingPoint()) throw new DTypeException($"{op}: scores must be floating-point, got {scores.DType}.");
        if (target.DType != DType.Int64) throw new DTypeException($"{op}: targets must be int64 class indices, got {target.DType}.");
        if (target.Rank != 1 || target.Size != scores.Shape[0]) throw new ShapeException($"{op}: targets must be [{scores.Shape[0]}], got {target.Shape}.");
        var t = target.Span<long>().ToArray();
        var c = scores.Shape[1];
        for (var i = 0; i < t.Length; i++)
        {
            if (t[i] < 0 || t[i] >= c) throw new ShapeException($"{op}: target {t[i]} at row {i} is outside the {c} classes.");
        }
        return t;
    }

    public static Tensor OneHot(Tensor scores, long[] targets)
    {
        var c = scores.Shape[1];
        var onehot = Tensor.Zeros(scores.Shape, scores.DType);
        if (onehot.DType == DType.Float32) Set(onehot.Span<float>(), targets, c);
        else Set(onehot.Span<double>(), targets, c);
        return onehot;
    }

    private static void Set<T>(Span<T> values, long[] targets, int c) where T : struct, System.Numerics.INumberBase<T>
    {
        for (var i = 0; i < targets.Length; i++) values[i * c + (int)targets[i]] = T.One;
    }

    public static IEnumerable<OpSample> Samples(Random rng, bool logProbabilities)
    {
        foreach (var (n, c) in new[] { (1, 3), (4, 5), (7, 2) })
        {
            var scores = BinarySamples.U(rng, [n, c], (-2, 2));
            if (logProbabilities) scores = Tensor.FromDoubles(scores.ToDoubleArray().Select(v => v - 2.5).ToArray(), scores.Shape, DType.Float64);
            var target = Tensor.FromArray(Enumerable.Range(0, n).Select(_ => (long)rng.Next(c)).ToArray(), n);
            yield return new OpSample($"N={n} C={c}", scores, target);
        }
    }
}
