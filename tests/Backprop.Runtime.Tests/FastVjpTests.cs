using Backprop.Runtime;

namespace Backprop.Tests;

/// <summary>
/// Raw-kernel first-order rules (<see cref="IFastVjp"/>): checked against finite differences, and the engine keeps using the
/// differentiable rule whenever the gradient is differentiated again.
/// </summary>
public class FastVjpTests
{
    /// <summary>float32 GELU (erf form) at <paramref name="n"/> points in [−6, 6], and the seed it is weighted with.</summary>
    private static (Tensor X, Tensor Seed) Points(int n)
    {
        _ = TestEnv.Runtime;
        var rng = new Random(17);
        var x = Tensor.FromArray(Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 12 - 6)).ToArray(), n);
        x.RequiresGrad = true;
        var seed = Tensor.FromArray(Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray(), n);
        return (x, seed);
    }

    [Theory]
    [InlineData(1003)]     // one core, a ragged vector tail
    [InlineData(200_001)]  // pieces split across cores
    public void Gelu_float32_gradient_matches_central_differences_of_the_float64_function(int n)
    {
        var (x, seed) = Points(n);
        Ops.Gelu(x).Backward(seed);
        var grad = x.Grad!.ToFloatArray();
        var (xs, gs) = (x.ToDoubleArray(), seed.ToDoubleArray());
        const double h = 1e-4;
        var probe = Tensor.FromArray(xs.SelectMany(v => new[] { v - h, v + h }).ToArray(), 2 * n);
        double[] f;
        using (GradMode.NoGrad()) f = Ops.Gelu(probe).ToDoubleArray();
        for (var i = 0; i < n; i++)
        {
            var expected = gs[i] * (f[2 * i + 1] - f[2 * i]) / (2 * h);
            TestEnv.Close(expected, grad[i], 2e-6, $"dx[{i}] at x = {xs[i]}");
        }
    }

    [Theory]
    [InlineData(300, 129, false)] // one core, rows not a multiple of the vector width
    [InlineData(600, 128, false)] // rows split across cores
    [InlineData(70, 33, true)]
    public void Softmax_gradient_along_the_last_axis_is_the_jacobian_product_of_the_definition(int rows, int dim, bool float64)
    {
        _ = TestEnv.Runtime;
        var rng = new Random(5);
        var values = Enumerable.Range(0, rows * dim).Select(_ => rng.NextDouble() * 8 - 4).ToArray();
        var seedValues = Enumerable.Range(0, rows * dim).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        var x = float64 ? Tensor.FromArray(values, rows, dim) : Tensor.FromArray(values.Select(v => (float)v).ToArray(), rows, dim);
        x.RequiresGrad = true;
        var seed = float64 ? Tensor.FromArray(seedValues, rows, dim) : Tensor.FromArray(seedValues.Select(v => (float)v).ToArray(), rows, dim);
        Ops.Softmax(x, -1).Backward(seed);
        var (grad, xs, gs) = (x.Grad!.ToDoubleArray(), x.ToDoubleArray(), seed.ToDoubleArray());
        for (var r = 0; r < rows; r++)
        {
            // softmax in double from the definition; ∂L/∂x_i = Σ_j g_j y_j (δ_ij − y_i) = y_i (g_i − Σ_j g_j y_j)
            var row = xs.AsSpan(r * dim, dim).ToArray();
            var max = row.Max();
            var e = row.Select(v => Math.Exp(v - max)).ToArray();
            var y = e.Select(v => v / e.Sum()).ToArray();
            var dot = Enumerable.Range(0, dim).Sum(j => gs[r * dim + j] * y[j]);
            for (var i = 0; i < dim; i++)
                TestEnv.Close(y[i] * (gs[r * dim + i] - dot), grad[r * dim + i], float64 ? 1e-13 : 2e-6, $"dx[{r}, {i}]");
        }
    }

    [Fact]
    public void Differentiating_the_gradient_again_uses_the_rule_written_in_ops()
    {
        var (x, seed) = Points(1003);
        var g = Autograd.Grad(Ops.Sum(Ops.Gelu(x) * seed), x, createGraph: true);
        Assert.False(g.IsLeaf);
        var fast = Autograd.Grad(Ops.Sum(Ops.Gelu(x) * seed), x);
        Assert.True(fast.IsLeaf);
        var (a, b) = (g.ToFloatArray(), fast.ToFloatArray());
        for (var i = 0; i < a.Length; i++) TestEnv.Close(a[i], b[i], 2e-6, $"dx[{i}]");
        // Second derivative of Σ seed·GELU: seed·φ(x)·(2 − x²), against the analytic form.
        var second = Autograd.Grad(Ops.Sum(g), x).ToDoubleArray();
        var (xs, gs) = (x.ToDoubleArray(), seed.ToDoubleArray());
        for (var i = 0; i < xs.Length; i++)
        {
            var pdf = Math.Exp(-xs[i] * xs[i] / 2) / Math.Sqrt(2 * Math.PI);
            TestEnv.Close(gs[i] * pdf * (2 - xs[i] * xs[i]), second[i], 2e-5, $"d²[{i}] at x = {xs[i]}");
        }
    }
}
