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
        if (Momentum == 0)
        {
            ForEach(parameter, grad, null, null, (ref double p, double g, ref double _, ref double _) => p -= learningRate * (g + weightDecay * p));
            return;
        }
        var first = !HasState(name, "momentum");
        var buffer = State(name, "momentum", parameter);
        var (mu, tau, nesterov) = (Momentum, Dampening, Nesterov);
        ForEach(parameter, grad, buffer, null, (ref double p, double g, ref double b, ref double _) =>
        {
            g += weightDecay * p;
            b = first ? g : mu * b + (1 - tau) * g;
            p -= learningRate * (nesterov ? g + mu * b : b);
        });
    }
}
