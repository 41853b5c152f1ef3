using Backprop.Runtime;
using static Backprop.Tests.TestEnv;

namespace Backprop.Tests;

/// <summary>Second derivatives through a small network, against each other and finite differences.</summary>
public class HigherOrderTests
{
    private readonly Tensor _x;
    private readonly Tensor _target;
    private readonly Shape[] _shapes = [new(4, 5), new(5), new(5, 3), new(3)];
    private readonly int _size;

    public HigherOrderTests()
    {
        _ = TestEnv.Runtime;
        var rng = new Random(7);
        _x = Tensor.Normal(new Shape(6, 4), rng, dtype: DType.Float64);
        _target = Tensor.FromArray(new long[] { 0, 2, 1, 1, 0, 2 });
        _size = _shapes.Sum(s => s.Size);
    }

    /// <summary>Cross-entropy of an MLP 4-5-3 with tanh, parameters packed in one float64 vector.</summary>
    private Tensor Loss(Tensor theta)
    {
        var parts = Ops.Split(theta, 0, _shapes.Select(s => s.Size).ToArray());
        var w1 = Ops.Reshape(parts[0], 4, 5);
        var w2 = Ops.Reshape(parts[2], 5, 3);
        var h = Ops.Tanh(Ops.MatMul(_x, w1) + parts[1]);
        return Ops.CrossEntropy(Ops.MatMul(h, w2) + parts[3], _target);
    }


    [Fact]
    public void Hvp_forward_over_reverse_equals_reverse_over_reverse_and_finite_differences()
    {
        var rng = new Random(3);
        var theta = Tensor.Normal(new Shape(_size), rng, std: 0.5, dtype: DType.Float64);
        var v = Tensor.Normal(new Shape(_size), rng, dtype: DType.Float64);
        var fwdRev = Functional.Hvp(Loss, theta, v, DiffMode.ForwardOverReverse).ToDoubleArray();
        var revRev = Functional.Hvp(Loss, theta, v, DiffMode.ReverseOverReverse).ToDoubleArray();

        // Central differences of the gradient along v, step 1e-5 (float64).
        double[] G(double s)
        {
            var shifted = Tensor.FromArray(theta.ToDoubleArray().Zip(v.ToDoubleArray(), (a, b) => a + s * b).ToArray());
            shifted.RequiresGrad = true;
            return Autograd.Grad(Loss(shifted), shifted).ToDoubleArray();
        }
        const double h = 1e-5;
        var gp = G(h);
        var gm = G(-h);
        var fd = gp.Zip(gm, (a, b) => (a - b) / (2 * h)).ToArray();
        var scale = fwdRev.Max(Math.Abs);
        Assert.True(scale > 1e-3, "the Hessian-vector product should not be trivially zero");
        for (var i = 0; i < _size; i++)
        {
            Assert.True(Math.Abs(fwdRev[i] - revRev[i]) <= 1e-6 * scale, $"fwd-rev vs rev-rev at {i}: {fwdRev[i]} vs {revRev[i]}");
            Assert.True(Math.Abs(fwdRev[i] - fd[i]) <= 1e-6 * scale, $"fwd-rev vs finite differences at {i}: {fwdRev[i]} vs {fd[i]}");
        }
    }

    [Fact]
    public void Gradient_norm_penalty_matches_finite_differences()
    {
        // P(θ) = ‖∇ₓ L(θ, x)‖²: needs the gradient of a gradient (as in WGAN-GP).
        var rng = new Random(11);
        var theta = Tensor.Normal(new Shape(_size), rng, std: 0.5, dtype: DType.Float64);
        var x0 = _x;

        double PenaltyValue(Tensor th)
        {
            var x = x0.Detach();
            x.RequiresGrad = true;
            var gx = Autograd.Grad(LossAt(th, x), x, createGraph: true);
            return Ops.Sum(gx * gx).Item();
        }

        var leaf = theta.Detach();
        leaf.RequiresGrad = true;
        var xl = x0.Detach();
        xl.RequiresGrad = true;
        var gradX = Autograd.Grad(LossAt(leaf, xl), xl, createGraph: true);
        var penalty = Ops.Sum(gradX * gradX);
        var analytic = Autograd.Grad(penalty, leaf).ToDoubleArray();

        var direction = Tensor.Normal(new Shape(_size), rng, dtype: DType.Float64).ToDoubleArray();
        const double h = 1e-5;
        Tensor Shift(double s) => Tensor.FromArray(theta.ToDoubleArray().Zip(direction, (a, b) => a + s * b).ToArray());
        var fd = (PenaltyValue(Shift(h)) - PenaltyValue(Shift(-h))) / (2 * h);
        var exact = analytic.Zip(direction, (a, b) => a * b).Sum();
        Assert.True(Math.Abs(exact) > 1e-4, "the directional derivative should not be trivially zero");
        Close(fd, exact, 1e-6, "directional derivative of the penalty");
    }

    private Tensor LossAt(Tensor theta, Tensor x)
    {
        var parts = Ops.Split(theta, 0, _shapes.Select(s => s.Size).ToArray());
        var h = Ops.Tanh(Ops.MatMul(x, Ops.Reshape(parts[0], 4, 5)) + parts[1]);
        return Ops.CrossEntropy(Ops.MatMul(h, Ops.Reshape(parts[2], 5, 3)) + parts[3], _target);
    }

    [Fact]
    public void Hessian_of_a_cubic_is_exact()
    {
        // f(x) = Σ x³ + x₀x₁ → H = diag(6x) + [[0,1],[1,0]] on the first two coordinates.
        Tensor F(Tensor x) => Ops.Sum(x * x * x) + Ops.Sum(Ops.Slice(x, [0], [1]) * Ops.Slice(x, [1], [2]));
        var x = D(1, 2, -1);
        foreach (var mode in new[] { DiffMode.ForwardOverReverse, DiffMode.ReverseOverReverse })
        {
            var h = Functional.Hessian(F, x, mode);
            Close([6, 1, 0, 1, 12, 0, 0, 0, -6], h);
        }
    }

    [Fact]
    public void Jacobian_forward_and_reverse_agree_with_the_formula()
    {
        // y = softmax(x): J = diag(y) − y yᵀ.
        var x = D(0.5, -1, 2);
        var rev = Functional.Jacobian(v => Ops.Softmax(v), x, DiffMode.Reverse).ToDoubleArray();
        var fwd = Functional.Jacobian(v => Ops.Softmax(v), x, DiffMode.Forward).ToDoubleArray();
        var e = x.ToDoubleArray().Select(Math.Exp).ToArray();
        var y = e.Select(v => v / e.Sum()).ToArray();
        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                var expected = (i == j ? y[i] : 0) - y[i] * y[j];
                Close(expected, rev[i * 3 + j], 1e-12);
                Close(expected, fwd[i * 3 + j], 1e-12);
            }
        }
    }

    [Fact]
    public void Nested_dual_levels_give_mixed_second_derivatives()
    {
        // f(x, y) = x²·y → ∂²f/∂x∂y = 2x, via forward-over-forward.
        using var outer = ForwardAD.Enter();
        var x = ForwardAD.MakeDual(D(3), D(1), outer);
        using var inner = ForwardAD.Enter();
        var y = ForwardAD.MakeDual(D(5), D(1), inner);
        var f = x * x * y;
        var dfdy = ForwardAD.Tangent(f, inner);   // x² = 9, carrying its own outer tangent 2x = 6
        Close(9, dfdy.Item());
        Close(6, ForwardAD.Tangent(dfdy, outer).Item());
        Close(30, ForwardAD.Tangent(f, outer).Item()); // ∂f/∂x = 2xy = 30
    }
}
