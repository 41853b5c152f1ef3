namespace Backprop.Training;

/// <summary>
/// Adam with bias correction (Kingma &amp; Ba), and AdamW's decoupled weight decay when <see cref="Decoupled"/> is set, following
/// PyTorch's torch.optim.Adam / AdamW: m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; p ← p − (η/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε).
/// Adam adds λp to the gradient; AdamW multiplies p by (1 − ηλ) before the update.
/// </summary>
public class Adam : Optimizer
{
    /// <summary>Creates Adam (or AdamW when <paramref name="decoupled"/>) over <paramref name="groups"/>.</summary>
    public Adam(IEnumerable<ParamGroup> groups, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8,
        double weightDecay = 0, bool decoupled = false)
        : base(groups, learningRate, weightDecay)
    {
        if (beta1 is < 0 or >= 1 || beta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta1), "betas must lie in [0, 1).");
        (Beta1, Beta2, Epsilon, Decoupled) = (beta1, beta2, epsilon, decoupled);
    }

    /// <summary>β₁.</summary>
    public double Beta1 { get; }

    /// <summary>β₂.</summary>
    public double Beta2 { get; }

    /// <summary>ε.</summary>
    public double Epsilon { get; }

    /// <summary>Decoupled (AdamW) weight decay.</summary>
    public bool Decoupled { get; }

    /// <inheritdoc />
    protected override void Update(string name, Tensor parameter, Tensor grad, double learningRate, double weightDecay, long step)
    {
        var (b1, b2, eps, decoupled) = (Beta1, Beta2, Epsilon, Decoupled);
        var c1 = 1 - Math.Pow(b1, step);
        var sqrtC2 = Math.Sqrt(1 - Math.Pow(b2, step));
        var stepSize = learningRate / c1;
        ForEach(parameter, grad, State(name, "m", parameter), State(name, "v", parameter), (ref double p, double g, ref double m, ref double v) =>
        {
            if (decoupled) p *= 1 - learningRate * weightDecay;
            else g += weightDecay * p;
            m = b1 * m + (1 - b1) * g;
            v = b2 * v + (1 - b2) * g * g;
            p -= stepSize * m / (Math.Sqrt(v) / sqrtC2 + eps);
        });
    }
}

/// <summary>AdamW: Adam with decoupled weight decay (default λ = 0.01, as PyTorch).</summary>
public sealed class AdamW : Adam
{
    /// <summary>Creates AdamW over <paramref name="groups"/>.</summary>
    public AdamW(IEnumerable<ParamGroup> groups, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0.01)
        : base(groups, learningRate, beta1, beta2, epsilon, weightDecay, decoupled: true) { }
}
