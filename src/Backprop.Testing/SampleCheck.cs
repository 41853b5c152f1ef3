using Backprop.Runtime;

namespace Backprop.Testing;

/// <summary>All checks of one op on one sample.</summary>
internal sealed class SampleCheck
{
    private readonly BackpropRuntime _runtime;
    private readonly IDifferentiableOp _op;
    private readonly OpSample _sample;
    private readonly CheckOptions _options;
    private readonly Tensor[] _x;
    private readonly int[] _diff;
    private readonly Tensor[] _u;
    private readonly Tensor[] _v;
    private readonly Tensor[] _w;
    private readonly List<CheckResult> _results = [];

    public SampleCheck(BackpropRuntime runtime, IDifferentiableOp op, OpSample sample, CheckOptions options, Random rng)
    {
        _runtime = runtime;
        _op = op;
        _sample = sample;
        _options = options;
        _x = sample.Inputs.Select(t => t.DType == DType.Float32 ? Ops.Cast(t, DType.Float64) : t).ToArray();
        _diff = Enumerable.Range(0, _x.Length).Where(i => _x[i].DType.IsFloatingPoint()).ToArray();
        Tensor[] outputs;
        using (GradMode.NoGrad()) outputs = Apply(_x);
        _u = outputs.Select(o => Tensor.Normal(o.Shape, rng, dtype: o.DType)).ToArray();
        _v = _diff.Select(i => Tensor.Normal(_x[i].Shape, rng, dtype: DType.Float64)).ToArray();
        _w = _diff.Select(i => Tensor.Normal(_x[i].Shape, rng, dtype: DType.Float64)).ToArray();
    }

    public IEnumerable<CheckResult> Run()
    {
        if (_diff.Length == 0) return [Result("differentiable-inputs", 0, 0, true, "no floating-point inputs")];
        var fd = FiniteDifference(Phi);
        var rev = ReverseFirst(_x);
        var fwd = ForwardFirst();
        Compare("vjp-vs-fd", fd, rev, _options.Tolerance);
        Compare("jvp-vs-fd", fd, fwd, _options.Tolerance);
        Compare("vjp-jvp-identity", rev, fwd, _options.IdentityTolerance);
        if (_options.SecondOrder) SecondOrder();
        return _results;
    }

    private Tensor[] Apply(Tensor[] inputs)
    {
        var outputs = _runtime.Invoke(_op, inputs, _sample.Attributes);
        return outputs.Select(o => o.DType.IsFloatingPoint() ? o : Tensor.Zeros(o.Shape, DType.Float64)).ToArray();
    }

    /// <summary>φ(x) = Σₖ ⟨uₖ, fₖ(x)⟩, in plain float64.</summary>
    private double Phi(Tensor[] inputs)
    {
        using var _ = GradMode.NoGrad();
        var outputs = Apply(inputs);
        return outputs.Select((o, k) => Dot(o, _u[k])).Sum();
    }

    /// <summary>d/dh g(x + h·v) at 0 by the 4-point central stencil.</summary>
    private double FiniteDifference(Func<Tensor[], double> g)
    {
        var h = _options.Step;
        double At(double s) => g(Shift(s));
        return (At(-2 * h) - 8 * At(-h) + 8 * At(h) - At(2 * h)) / (12 * h);
    }

    private Tensor[] Shift(double s)
    {
        var shifted = (Tensor[])_x.Clone();
        for (var j = 0; j < _diff.Length; j++)
        {
            var i = _diff[j];
            var values = _x[i].ToDoubleArray();
            var dir = _v[j].ToDoubleArray();
            for (var e = 0; e < values.Length; e++) values[e] += s * dir[e];
            shifted[i] = Tensor.FromDoubles(values, _x[i].Shape, DType.Float64);
        }
        return shifted;
    }

    private Tensor[] Leaves(Tensor[] inputs)
    {
        var leaves = inputs.Select(t => t.Detach()).ToArray();
        foreach (var i in _diff) leaves[i].RequiresGrad = true;
        return leaves;
    }

    /// <summary>Jᵀu for each differentiable input.</summary>
    private Tensor[] Vjp(Tensor[] leaves, bool createGraph)
    {
        var outputs = _runtime.Invoke(_op, leaves, _sample.Attributes);
        var (outs, seeds) = Differentiable(outputs);
        if (outs.Length == 0) return _diff.Select(i => Tensor.ZerosLike(leaves[i])).ToArray();
        return Autograd.Grad(outs, _diff.Select(i => leaves[i]).ToArray(), seeds, createGraph)!.Select(g => g!).ToArray();
    }

    private (Tensor[] Outputs, Tensor?[] Seeds) Differentiable(Tensor[] outputs)
    {
        var idx = Enumerable.Range(0, outputs.Length).Where(k => outputs[k].RequiresGrad).ToArray();
        return (idx.Select(k => outputs[k]).ToArray(), idx.Select(k => (Tensor?)_u[k]).ToArray());
    }

    private double ReverseFirst(Tensor[] inputs)
    {
        var grads = Vjp(Leaves(inputs), createGraph: false);
        return grads.Select((g, j) => Dot(g, _v[j])).Sum();
    }

    private double ForwardFirst()
    {
        using var level = ForwardAD.Enter();
        var duals = (Tensor[])_x.Clone();
        for (var j = 0; j < _diff.Length; j++) duals[_diff[j]] = ForwardAD.MakeDual(_x[_diff[j]], _v[j], level);
        var outputs = _runtime.Invoke(_op, duals, _sample.Attributes);
        return outputs.Select((o, k) => o.DType.IsFloatingPoint() ? Dot(ForwardAD.Tangent(o, level), _u[k]) : 0).Sum();
    }

    /// <summary>ψ(x) = Σⱼ ⟨(Jᵀu)ⱼ, wⱼ⟩; its derivative along v is a second derivative of φ.</summary>
    private double Psi(Tensor[] inputs)
    {
        var grads = Vjp(Leaves(inputs), createGraph: false);
        return grads.Select((g, j) => Dot(g, _w[j])).Sum();
    }

    private void SecondOrder()
    {
        if (!_op.SupportsHigherOrder)
        {
            try
            {
                Vjp(Leaves(_x), createGraph: true);
                _results.Add(Result("once-differentiable-error", 0, 0, false, "createGraph through a once-differentiable op did not raise HigherOrderNotSupportedException"));
            }
            catch (HigherOrderNotSupportedException)
            {
                _results.Add(Result("once-differentiable-error", 0, 0, true));
            }
            return;
        }
        var fd = FiniteDifference(Psi);
        Compare("second-order-rev-rev", fd, ReverseOverReverse(), _options.Tolerance);
        Compare("second-order-fwd-rev", fd, ForwardOverReverse(), _options.Tolerance);
    }

    private double ReverseOverReverse()
    {
        var leaves = Leaves(_x);
        var grads = Vjp(leaves, createGraph: true);
        Tensor? psi = null;
        for (var j = 0; j < grads.Length; j++)
        {
            if (!grads[j].RequiresGrad) continue;
            var term = Ops.ReduceSum(Ops.Mul(grads[j], _w[j]));
            psi = psi is null ? term : Ops.Add(psi, term);
        }
        if (psi is null) return 0; // the first derivative does not depend on x: the op is linear
        var second = Autograd.Grad([psi], _diff.Select(i => leaves[i]).ToArray());
        return second.Select((g, j) => Dot(g!, _v[j])).Sum();
    }

    private double ForwardOverReverse()
    {
        using var level = ForwardAD.Enter();
        var leaves = Leaves(_x);
        var duals = (Tensor[])leaves.Clone();
        for (var j = 0; j < _diff.Length; j++) duals[_diff[j]] = ForwardAD.MakeDual(leaves[_diff[j]], _v[j], level);
        var outputs = _runtime.Invoke(_op, duals, _sample.Attributes);
        var (outs, seeds) = Differentiable(outputs);
        if (outs.Length == 0) return 0;
        var grads = Autograd.Grad(outs, _diff.Select(i => duals[i]).ToArray(), seeds);
        return grads.Select((g, j) => Dot(ForwardAD.Tangent(g!, level), _w[j])).Sum();
    }

    private void Compare(string check, double expected, double actual, double tolerance)
    {
        var ok = Math.Abs(actual - expected) <= tolerance * Math.Max(1, Math.Max(Math.Abs(expected), Math.Abs(actual)));
        _results.Add(Result(check, expected, actual, ok, ok ? null : $"difference {Math.Abs(actual - expected):G3} exceeds {tolerance:G2} relative"));
    }

    private CheckResult Result(string check, double expected, double actual, bool passed, string? message = null) =>
        new(_op.Schema.QualifiedName, _sample.Description, check, expected, actual, passed, message);

    private static double Dot(Tensor a, Tensor b)
    {
        var x = a.ToDoubleArray();
        var y = b.ToDoubleArray();
        var s = 0.0;
        for (var i = 0; i < x.Length; i++) s += x[i] * y[i];
        return s;
    }
}
