using System.Numerics;

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
        var c1 = 1 - Math.Pow(Beta1, step);
        var sqrtC2 = Math.Sqrt(1 - Math.Pow(Beta2, step));
        var (m, v) = (State(name, "m", parameter), State(name, "v", parameter));
        if (parameter.DType == DType.Float32) ForEachVector<float, Rule<float>>(parameter, grad, m, v, new Rule<float>(this, learningRate, weightDecay, c1, sqrtC2));
        else ForEachVector<double, Rule<double>>(parameter, grad, m, v, new Rule<double>(this, learningRate, weightDecay, c1, sqrtC2));
    }

    /// <summary>One Adam step over a vector of elements, in the parameter's precision (as PyTorch computes it).</summary>
    private readonly struct Rule<T> : IVectorUpdate<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Vector<T> _b1, _keep1, _b2, _keep2, _stepSize, _sqrtC2, _eps, _decay, _shrink;
        private readonly bool _decoupled, _hasDecay;

        public Rule(Adam adam, double learningRate, double weightDecay, double c1, double sqrtC2)
        {
            static Vector<T> V(double x) => new(T.CreateTruncating(x));
            (_b1, _keep1, _b2, _keep2) = (V(adam.Beta1), V(1 - adam.Beta1), V(adam.Beta2), V(1 - adam.Beta2));
            (_stepSize, _sqrtC2, _eps) = (V(learningRate / c1), V(sqrtC2), V(adam.Epsilon));
            (_decay, _shrink) = (V(weightDecay), V(1 - learningRate * weightDecay));
            (_decoupled, _hasDecay) = (adam.Decoupled, weightDecay != 0);
        }

        public void Apply(ref Vector<T> p, Vector<T> g, ref Vector<T> m, ref Vector<T> v)
        {
            if (_hasDecay)
            {
                if (_decoupled) p *= _shrink;
                else g += _decay * p;
            }
            m = _b1 * m + _keep1 * g;
            v = _b2 * v + _keep2 * g * g;
            p -= _stepSize * m / (Vector.SquareRoot(v) / _sqrtC2 + _eps);
        }
    }
}

/// <summary>AdamW: Adam with decoupled weight decay (default λ = 0.01, as PyTorch).</summary>
public sealed class AdamW : Adam
{
    /// <summary>Creates AdamW over <paramref name="groups"/>.</summary>
    public AdamW(IEnumerable<ParamGroup> groups, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0.01)
        : base(groups, learningRate, beta1, beta2, epsilon, weightDecay, decoupled: true) { }
}
