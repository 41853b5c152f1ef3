namespace Backprop.Training;

/// <summary>
/// Training losses written in differentiable ops (so they differentiate twice), mean-reduced with PyTorch's conventions.
/// Targets carry no gradient.
/// </summary>
public static class Losses
{
    /// <summary>
    /// Cross-entropy of int64 class <paramref name="target"/> [N] given <paramref name="logits"/> [N, C], with optional label
    /// smoothing ε and class weights w: Σᵢ Σ_c −w_c qᵢc log softmax(xᵢ)_c / Σᵢ w_yᵢ, where qᵢ = (1−ε)·onehot(yᵢ) + ε/C
    /// (torch.nn.functional.cross_entropy with weight and label_smoothing, mean reduction).
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor target, double labelSmoothing = 0, ReadOnlySpan<double> classWeights = default)
    {
        if (logits.Rank != 2) throw new ShapeException($"cross-entropy expects logits [N, C], got {logits.Shape}.");
        if (labelSmoothing is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "label smoothing must lie in [0, 1].");
        if (labelSmoothing == 0 && classWeights.IsEmpty) return Ops.CrossEntropy(logits, target);
        return Weighted(Ops.LogSoftmax(logits, 1), target, labelSmoothing, classWeights, "cross-entropy");
    }

    /// <summary>Negative log-likelihood of int64 <paramref name="target"/> [N] under log-probabilities [N, C], with optional class weights (weighted mean).</summary>
    public static Tensor Nll(Tensor logProbabilities, Tensor target, ReadOnlySpan<double> classWeights = default)
    {
        if (logProbabilities.Rank != 2) throw new ShapeException($"NLL expects log-probabilities [N, C], got {logProbabilities.Shape}.");
        return classWeights.IsEmpty ? Ops.NllLoss(logProbabilities, target) : Weighted(logProbabilities, target, 0, classWeights, "NLL");
    }

    /// <summary>Mean squared error.</summary>
    public static Tensor Mse(Tensor prediction, Tensor target) => Ops.Mean(Ops.Square(prediction - Same(target, prediction, "MSE")));

    /// <summary>Mean absolute error.</summary>
    public static Tensor L1(Tensor prediction, Tensor target) => Ops.Mean(Ops.Abs(prediction - Same(target, prediction, "L1")));

    /// <summary>
    /// Binary cross-entropy on logits x with targets t in [0, 1], stably: mean of max(x,0) − x·t + log(1 + e^−|x|);
    /// <paramref name="positiveWeight"/> p scales the positive term (torch's pos_weight): (1 + (p−1)t)·log(1 + e^−x) + (1−t)·x.
    /// </summary>
    public static Tensor BceWithLogits(Tensor logits, Tensor target, double positiveWeight = 1)
    {
        var t = Same(target, logits, "BCE-with-logits");
        var softplusNeg = Ops.Relu(-logits) + Ops.Softplus(-Ops.Abs(logits)); // log(1 + e^−x), stable
        if (positiveWeight == 1) return Ops.Mean(logits - logits * t + softplusNeg);
        var w = Ops.ScalarLike(t, 1) + Ops.ScalarLike(t, positiveWeight - 1) * t;
        return Ops.Mean(w * softplusNeg + (Ops.ScalarLike(t, 1) - t) * logits);
    }

    private static Tensor Weighted(Tensor logp, Tensor target, double epsilon, ReadOnlySpan<double> classWeights, string what)
    {
        var (n, c) = (logp.Shape[0], logp.Shape[1]);
        var labels = Labels(target, n, c, what);
        if (!classWeights.IsEmpty && classWeights.Length != c)
            throw new ShapeException($"{what}: {classWeights.Length} class weights given for {c} classes.");
        var q = new double[n * c];
        double norm = 0;
        for (var i = 0; i < n; i++)
        {
            var wy = classWeights.IsEmpty ? 1 : classWeights[(int)labels[i]];
            norm += wy;
            for (var k = 0; k < c; k++)
            {
                var wk = classWeights.IsEmpty ? 1 : classWeights[k];
                q[i * c + k] = wk * ((k == labels[i] ? 1 - epsilon : 0) + epsilon / c);
            }
        }
        if (norm <= 0) throw new ArgumentException($"{what}: the class weights of the batch's targets sum to {norm}; the mean is undefined.");
        var weights = Tensor.FromDoubles(q, logp.Shape, logp.DType);
        return -Ops.Sum(weights * logp) / Ops.ScalarLike(logp, norm);
    }

    private static long[] Labels(Tensor target, int n, int c, string what)
    {
        if (target.DType != DType.Int64) throw new DTypeException($"{what}: targets must be int64 class indices, got {target.DType}.");
        if (target.Shape != new Shape(n)) throw new ShapeException($"{what}: targets have shape {target.Shape}, expected [{n}].");
        var labels = target.ToInt64Array();
        foreach (var y in labels)
        {
            if (y < 0 || y >= c) throw new ArgumentOutOfRangeException(nameof(target), y, $"{what}: a target class is outside [0, {c}).");
        }
        return labels;
    }

    private static Tensor Same(Tensor target, Tensor like, string what)
    {
        if (target.Shape != like.Shape) throw new ShapeException($"{what}: target shape {target.Shape} differs from prediction shape {like.Shape}.");
        return target.DType == like.DType ? target : Ops.Cast(target, like.DType);
    }
}
