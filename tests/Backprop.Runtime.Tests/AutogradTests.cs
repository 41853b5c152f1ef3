using Backprop.Runtime;
using static Backprop.Tests.TestEnv;

namespace Backprop.Tests;

/// <summary>Engine behaviour: freed graphs, modes, hooks, errors.</summary>
public class AutogradTests
{
    public AutogradTests() => _ = TestEnv.Runtime;

    [Fact]
    public void Walking_a_freed_graph_twice_is_a_clear_error()
    {
        var x = Leaf(1, 2);
        var y = Ops.Sum(Ops.Exp(x));
        y.Backward();
        var e = Assert.Throws<AutogradException>(() => y.Backward());
        Assert.Contains("retainGraph", e.Message);
    }

    [Fact]
    public void Retained_graphs_can_be_walked_again()
    {
        var x = Leaf(1, 2);
        var y = Ops.Sum(Ops.Exp(x));
        y.Backward(retainGraph: true);
        y.Backward();
        Close(x.ToDoubleArray().Select(v => 2 * Math.Exp(v)).ToArray(), x.Grad!, 1e-12);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Several_outputs_where_one_depends_on_another_sum_their_gradients(bool dependentFirst)
    {
        // a = 2x, b = 3a² = 12x²: d(a + b)/dx = 2 + 24x, given in either order, to .Grad and to Grad().
        var x = Leaf(0.5, -1.0, 2.0);
        var a = x * 2.0;
        var b = Ops.Mul(a, a) * 3.0;
        Tensor[] outputs = dependentFirst ? [b, a] : [a, b];
        Tensor[] seeds = [Tensor.OnesLike(outputs[0]), Tensor.OnesLike(outputs[1])];
        var expected = x.ToDoubleArray().Select(v => 2 + 24 * v).ToArray();
        Close(expected, Autograd.Grad(outputs, [x], seeds, retainGraph: true)[0]!, 1e-12);
        Autograd.Backward(outputs, seeds);
        Close(expected, x.Grad!, 1e-12);
    }

    [Fact]
    public void No_grad_records_nothing()
    {
        var x = Leaf(1, 2);
        using (GradMode.NoGrad())
        {
            var y = Ops.Exp(x);
            Assert.Null(y.GradFn);
            Assert.False(y.RequiresGrad);
        }
        Assert.NotNull(Ops.Exp(x).GradFn);
    }

    [Fact]
    public void Non_scalar_outputs_need_a_seed()
    {
        var x = Leaf(1, 2);
        var e = Assert.Throws<AutogradException>(() => Ops.Exp(x).Backward());
        Assert.Contains("seed", e.Message);
    }

    [Fact]
    public void Anomaly_detection_names_the_op_that_made_the_first_nan()
    {
        var x = Leaf(-1, 4);
        using var _ = GradMode.DetectAnomaly();
        var e = Assert.Throws<AnomalyException>(() => Ops.Sqrt(x));
        Assert.Contains("'Sqrt'", e.Message);
        Assert.Contains("node #", e.Message);
    }

    [Fact]
    public void Anomaly_detection_catches_non_finite_gradients()
    {
        var x = Leaf(0, 4);
        using var _ = GradMode.DetectAnomaly();
        var y = Ops.Sum(Ops.Sqrt(x)); // finite forward, infinite derivative at 0
        var e = Assert.Throws<AnomalyException>(() => y.Backward());
        Assert.Contains("backward rule of 'Sqrt'", e.Message);
    }

    [Fact]
    public void Hooks_see_and_replace_gradients_and_retain_grad_keeps_intermediate_ones()
    {
        var x = Leaf(1, 2, 3);
        var h = x * 2.0;
        h.RetainGrad();
        Tensor? seen = null;
        h.RegisterHook(g => { seen = g; return g * 10.0; });
        Ops.Sum(h * h).Backward();
        Close([4, 8, 12], seen!);             // dL/dh = 2h
        Close([40, 80, 120], h.Grad!);        // retained after hooks ran, as in PyTorch
        Close([80, 160, 240], x.Grad!);       // 10·2h·2
    }

    [Fact]
    public void Grad_with_respect_to_an_intermediate_tensor()
    {
        var x = Leaf(1, 2);
        var h = Ops.Exp(x);
        var y = Ops.Sum(h * h);
        var g = Autograd.Grad(y, h);
        Close(h.ToDoubleArray().Select(v => 2 * v).ToArray(), g, 1e-12);
        Assert.Null(x.Grad);
    }

    [Fact]
    public void Setting_requires_grad_on_a_non_leaf_is_refused()
    {
        var y = Ops.Exp(Leaf(1));
        Assert.Throws<InvalidOperationException>(() => y.RequiresGrad = false);
        Assert.Throws<DTypeException>(() => Tensor.FromArray(new long[] { 1 }).RequiresGrad = true);
    }

    [Fact]
    public void Shape_errors_say_what_and_where()
    {
        var e = Assert.Throws<ShapeException>(() => Ops.Add(D(1, 2, 3), D(1, 2)));
        Assert.Contains("[3]", e.Message);
        Assert.Contains("[2]", e.Message);
        var m = Assert.Throws<ShapeException>(() => Ops.MatMul(Tensor.Zeros(new Shape(2, 3)), Tensor.Zeros(new Shape(4, 5))));
        Assert.Contains("inner dimensions", m.Message);
    }

    [Fact]
    public void Forward_mode_tangent_through_a_chain()
    {
        using var level = ForwardAD.Enter();
        var x = ForwardAD.MakeDual(D(0.3), D(1));
        var y = Ops.Sin(Ops.Exp(x));
        Close(Math.Cos(Math.Exp(0.3)) * Math.Exp(0.3), ForwardAD.Tangent(y).Item(), 1e-12);
    }

    [Fact]
    public void Closed_dual_levels_stop_propagating()
    {
        Tensor x;
        using (var level = ForwardAD.Enter()) x = ForwardAD.MakeDual(D(1), D(1), level);
        using var other = ForwardAD.Enter();
        Close(0, ForwardAD.Tangent(Ops.Exp(x), other).Item());
    }
}
