using Backprop.Runtime;
using static Backprop.Tests.TestEnv;

namespace Backprop.Tests;

/// <summary>The classic hand-worked circuits: values computed on paper.</summary>
public class CircuitTests
{
    public CircuitTests() => _ = TestEnv.Runtime;

    [Fact]
    public void Add_then_multiply_gate()
    {
        var (x, y, z) = (Leaf(-2), Leaf(5), Leaf(-4));
        var f = (x + y) * z;
        f.Backward();
        Close(-12, f.Item());
        Close(-4, x.Grad!.Item());
        Close(-4, y.Grad!.Item());
        Close(3, z.Grad!.Item());
    }

    [Fact]
    public void Sigmoid_neuron()
    {
        var w = Leaf(2, -3, -3);
        var x = Leaf(-1, -2);
        var w0 = Ops.Slice(w, [0], [1]);
        var w1 = Ops.Slice(w, [1], [2]);
        var w2 = Ops.Slice(w, [2], [3]);
        var x0 = Ops.Slice(x, [0], [1]);
        var x1 = Ops.Slice(x, [1], [2]);
        var f = Ops.Sigmoid(w0 * x0 + w1 * x1 + w2);
        Ops.Sum(f).Backward();
        Close(0.7310585786, f.Item(), 1e-9);
        // dσ = σ(1)(1 − σ(1)) ≈ 0.19661193
        Close([-0.19661193, -0.39322387, 0.19661193], w.Grad!, 1e-7);
        Close([0.39322387, -0.58983580], x.Grad!, 1e-7);
    }

    [Fact]
    public void Max_gate_routes_the_whole_gradient_to_the_larger_input()
    {
        var (a, b) = (Leaf(3), Leaf(-1));
        var y = Ops.Maximum(a, b) * 2.0;
        Ops.Sum(y).Backward();
        Close(2, a.Grad!.Item());
        Close(0, b.Grad!.Item());
    }

    [Fact]
    public void A_value_used_twice_accumulates_both_gradients()
    {
        var x = Leaf(3);
        var y = x * x + x; // dy/dx = 2x + 1 = 7
        Ops.Sum(y).Backward();
        Close(7, x.Grad!.Item());
    }

    [Fact]
    public void Gradients_accumulate_across_backward_calls()
    {
        var x = Leaf(2);
        Ops.Sum(x * x).Backward();
        Ops.Sum(x * x).Backward();
        Close(8, x.Grad!.Item());
    }

    [Fact]
    public void Relu_backward_is_a_mask()
    {
        var x = Leaf(-1.5, 0.5, 2, -0.1);
        Ops.Sum(Ops.Relu(x) * D(1, 2, 3, 4)).Backward();
        Close([0, 2, 3, 0], x.Grad!);
    }

    [Fact]
    public void Matmul_backward_is_two_transposed_products()
    {
        // y = x·W with x 2×3, W 3×2; L = Σ y ⊙ s. dL/dx = s·Wᵀ, dL/dW = xᵀ·s (computed by hand).
        var x = Tensor.FromArray(new double[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        var w = Tensor.FromArray(new double[] { 1, 0, -1, 2, 0.5, 1 }, 3, 2);
        var s = Tensor.FromArray(new double[] { 1, -1, 2, 0 }, 2, 2);
        x.RequiresGrad = true;
        w.RequiresGrad = true;
        Ops.Sum(Ops.MatMul(x, w) * s).Backward();
        Close([1, -3, -0.5, 2, -2, 1], x.Grad!);
        Close([9, -1, 12, -2, 15, -3], w.Grad!);
    }
}
