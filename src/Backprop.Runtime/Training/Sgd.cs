using System.Numerics;

namespace Backprop.Training;

/// <summary>
/// Stochastic gradient descent with optional momentum (heavy-ball or Nesterov), dampening and L2 weight decay, following
/// PyTorch's torch.optim.SGD: g ← g + λp; b ← g on the first step, else μb + (1−τ)g; d ← g + μb (Nesterov) or b; p ← p − ηd.
/// </summary>
public sealed class Sgd : Optimizer
{
    /// <summary>Creates SGD over <paramref name="groups"/>.</summary>
    public Sgd(IEnumerable<ParamGroup> groups, double learningRate, double momentum = 0, double dampening = 0, bool nesterov = false, double weightDecay = 0)
        : base(groups, learningRate, weightDecay)
    {
        if (nesterov && (momentum <= 0 || dampening != 0)) throw new ArgumentException("Nesterov momentum needs momentum > 0 and zero dampening.", nameof(nesterov));
        (Momentum, Dampening, Nesterov) = (momentum, dampening, nesterov);
    }

    /// <summary>Creates SGD over one group of <paramref name="parameters"/>.</summary>
    public Sgd(IEnumerable<KeyValuePair<string, Tensor>> parameters, double learningRate, double momentum = 0, double dampening = 0, bool nesterov = false, double weightDecay = 0)
        : this([ParamGroup.Of(parameters)], learningRate, momentum, dampening, nesterov, weightDecay) { }

    /// <summary>Momentum factor μ.</summary>
    public double Momentum { get; }

    /// <summary>Dampening τ.</summary>
    public double Dampening { get; }

    /// <summary>Nesterov momentum.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc />
    protected override void Update(string name, Tensor parameter, Tensor grad, double learningRate, double weightDecay, long step)
    {
        var first = Momentum != 0 && !HasState(name, "momentum");
        var buffer = Momentum == 0 ? null : State(name, "momentum", parameter);
        if (parameter.DType == DType.Float32) ForEachVector<float, Rule<float>>(parameter, grad, buffer, null, new Rule<float>(this, learningRate, weightDecay, first));
        else ForEachVector<double, Rule<double>>(parameter, grad, buffer, null, new Rule<double>(this, learningRate, weightDecay, first));
    }

    /// <summary>One SGD step over a vector of elements, in the parameter's precision (as PyTorch computes it).</summary>
    private readonly struct Rule<T> : IVectorUpdate<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Vector<T> _lr, _decay, _mu, _keep;
        private readonly bool _hasDecay, _hasMomentum, _nesterov, _first;

        public Rule(Sgd sgd, double learningRate, double weightDecay, bool first)
        {
            (_lr, _decay) = (new(T.CreateTruncating(learningRate)), new(T.CreateTruncating(weightDecay)));
            (_mu, _keep) = (new(T.CreateTruncating(sgd.Momentum)), new(T.CreateTruncating(1 - sgd.Dampening)));
            (_hasDecay, _hasMomentum, _nesterov, _first) = (weightDecay != 0, sgd.Momentum != 0, sgd.Nesterov, first);
        }

        public void Apply(ref Vector<T> p, Vector<T> g, ref Vector<T> b, ref Vector<T> unused)
        {
            if (_hasDecay) g += _decay * p;
            var d = g;
            if (_hasMomentum)
            {
                b = _first ? g : _mu * b + _keep * g;
                d = _nesterov ? g + _mu * b : b;
            }
            p -= _lr * d;
        }
    }
}
