using Backprop.Runtime;
using static Backprop.Tests.TestEnv;

namespace Backprop.Tests;

/// <summary>Forward values against references written independently here (System.Math, plain loops).</summary>
public class ForwardOracleTests
{
    private readonly Random _rng = new(5);

    public ForwardOracleTests() => _ = TestEnv.Runtime;

    public static TheoryData<string> UnaryOps() => ["Exp", "Log", "Sqrt", "Reciprocal", "Abs", "Sin", "Cos", "Tanh", "Sigmoid", "Relu", "Softplus", "Neg", "Erf", "Gelu"];

    private static double Reference(string op, double x) => op switch
    {
        "Exp" => Math.Exp(x),
        "Log" => Math.Log(x),
        "Sqrt" => Math.Sqrt(x),
        "Reciprocal" => 1 / x,
        "Abs" => Math.Abs(x),
        "Sin" => Math.Sin(x),
        "Cos" => Math.Cos(x),
        "Tanh" => Math.Tanh(x),
        "Sigmoid" => 1 / (1 + Math.Exp(-x)),
        "Relu" => Math.Max(x, 0),
        "Softplus" => Math.Log(1 + Math.Exp(x)),
        "Neg" => -x,
        "Erf" => ErfByIntegration(x),
        "Gelu" => 0.5 * x * (1 + ErfByIntegration(x / Math.Sqrt(2))),
        _ => throw new ArgumentException(op),
    };

    /// <summary>erf by Simpson's rule on 2/√π·e^(−t²) — slow, independent, accurate to ~1e-13.</summary>
    private static double ErfByIntegration(double x)
    {
        const int n = 4000;
        var h = x / n;
        var s = 1 + Math.Exp(-x * x);
        for (var i = 1; i < n; i++) s += (i % 2 == 1 ? 4 : 2) * Math.Exp(-(i * h) * (i * h));
        return 2 / Math.Sqrt(Math.PI) * s * h / 3;
    }

    [Theory]
    [MemberData(nameof(UnaryOps))]
    public void Unary_ops_match_the_math_library_in_float64_and_float32(string op)
    {
        var positive = op is "Log" or "Sqrt" or "Reciprocal";
        foreach (var n in new[] { 0, 1, 7, 16, 17, 33, 100 })
        {
            var values = Enumerable.Range(0, n).Select(_ => positive ? 0.1 + 3 * _rng.NextDouble() : -4 + 8 * _rng.NextDouble()).ToArray();
            var expected = values.Select(v => Reference(op, v)).ToArray();
            var y64 = Ops.Call(op, Tensor.FromArray(values)).ToDoubleArray();
            var y32 = Ops.Call(op, Tensor.FromArray(values.Select(v => (float)v).ToArray())).ToDoubleArray();
            for (var i = 0; i < n; i++)
            {
                Close(expected[i], y64[i], 1e-12, $"{op}({values[i]}) float64");
                Close(expected[i], y32[i], 2e-6, $"{op}({values[i]}) float32");
            }
        }
    }

    /// <summary>
    /// float32 erf and GELU (vector kernels: a polynomial below |x| = 1, 1 − exp of a fitted ln erfc up to 3.92, ±1 beyond)
    /// on a dense grid that crosses both seams, against the float64 op, and at the special values.
    /// </summary>
    [Fact]
    public void Float32_erf_and_gelu_are_within_a_few_ulps_everywhere()
    {
        var grid = Enumerable.Range(-60_000, 120_001).Select(i => i * 1e-4).Concat([0.99999994, 1.0000001, 3.9199998, 3.92, 3.9200001, 1e-30, -1e-30]).ToArray();
        foreach (var op in new[] { "Erf", "Gelu" })
        {
            var y64 = Ops.Call(op, Tensor.FromArray(grid)).ToDoubleArray();
            var y32 = Ops.Call(op, Tensor.FromArray(grid.Select(v => (float)v).ToArray())).ToDoubleArray();
            var worst = 0.0;
            for (var i = 0; i < grid.Length; i++)
            {
                // float32 inputs are rounded: compare with the float64 op at the rounded input, error relative to max(|y|, 1e-30) below 1 and absolute above.
                var x = (double)(float)grid[i];
                var expected = Ops.Call(op, Tensor.FromArray(new[] { x })).ToDoubleArray()[0];
                if (i % 7 != 0 && x == grid[i]) expected = y64[i];
                var err = Math.Abs(y32[i] - expected) / Math.Max(1, Math.Abs(expected));
                worst = Math.Max(worst, err);
                Assert.True(err < 2.5e-7, $"{op}({x:R}) = {y32[i]:R} in float32, {expected:R} in float64");
            }
            Assert.True(worst > 0, "the float32 kernel should differ from float64 somewhere (is the float32 path in use?)");
        }
        var special = Ops.Call("Erf", Tensor.FromArray(new[] { float.PositiveInfinity, float.NegativeInfinity, float.NaN, 0f, -0f, 10f, -10f })).ToFloatArray();
        Assert.Equal(new[] { 1f, -1f }, special[..2]);
        Assert.True(float.IsNaN(special[2]));
        Assert.Equal(new[] { 0f, 0f, 1f, -1f }, special[3..]);
        var gelu = Ops.Call("Gelu", Tensor.FromArray(new[] { float.PositiveInfinity, float.NaN, -20f, 20f })).ToFloatArray();
        Assert.Equal(float.PositiveInfinity, gelu[0]);
        Assert.True(float.IsNaN(gelu[1]));
        Assert.Equal(new[] { -0f, 20f }, gelu[2..]);
    }

    /// <summary>BatchNorm's batch statistics on planes long enough for the vector loops (and a ragged tail), against float64 loops.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Channel_moments_match_two_pass_loops(bool f64)
    {
        var rt = TestEnv.Runtime;
        var (n, c, plane) = (3, 5, 37 * 41);
        var x = Tensor.Uniform(new Shape(n, c, 37, 41), _rng, -3, 5, dtype: f64 ? DType.Float64 : DType.Float32);
        Tensor[] y;
        using (rt.Activate()) y = rt.Invoke(Ops.BackpropDomain, "ChannelMoments", [x], OpAttributes.Of(("epsilon", 1e-3)));
        var (xs, mean, invStd) = (x.ToDoubleArray(), y[0].ToDoubleArray(), y[1].ToDoubleArray());
        for (var ch = 0; ch < c; ch++)
        {
            var values = Enumerable.Range(0, n).SelectMany(i => xs.Skip((i * c + ch) * plane).Take(plane)).ToArray();
            var mu = values.Average();
            var variance = values.Sum(v => (v - mu) * (v - mu)) / values.Length;
            Close(mu, mean[ch], f64 ? 1e-13 : 1e-6, $"mean[{ch}]");
            Close(1 / Math.Sqrt(variance + 1e-3), invStd[ch], f64 ? 1e-13 : 1e-6, $"invStd[{ch}]");
        }
    }

    /// <summary>Tensors big enough that the kernels split across cores give the math library's values everywhere.</summary>
    [Theory]
    [InlineData("Relu")]
    [InlineData("Sigmoid")]
    [InlineData("Tanh")]
    [InlineData("Exp")]
    [InlineData("Erf")]
    public void Large_unary_ops_split_across_cores_match_the_math_library(string op)
    {
        const int n = 300_001; // several pieces and a ragged last one
        var values = Enumerable.Range(0, n).Select(_ => (float)(-4 + 8 * _rng.NextDouble())).ToArray();
        var y = Ops.Call(op, Tensor.FromArray(values)).ToFloatArray();
        Assert.Equal(n, y.Length);
        for (var i = 0; i < n; i += op == "Erf" ? 997 : 1)
            Close(Reference(op, values[i]), y[i], 2e-6, $"{op}({values[i]}) at {i}");
    }

    [Theory]
    [InlineData("Softmax", 1)]
    [InlineData("Softmax", 2)]
    [InlineData("LogSoftmax", 1)]
    [InlineData("LogSoftmax", -1)]
    public void Large_softmax_split_across_cores_matches_the_definition(string op, int axis)
    {
        // 84,000 elements: rows are split across cores; axis 1 reads strided rows, the last axis contiguous ones.
        int[] dims = [4, 300, 70];
        var x = Tensor.Uniform(new Shape(dims), _rng, -20, 20);
        var y = Ops.Call(op, OpAttributes.Of(("axis", (long)axis)), x).ToDoubleArray();
        var xv = x.ToDoubleArray();
        var a = axis < 0 ? axis + 3 : axis;
        var (dim, inner) = (dims[a], a == 1 ? dims[2] : 1);
        for (var r = 0; r < xv.Length / dim; r += 7)
        {
            var start = r / inner * dim * inner + r % inner;
            var row = Enumerable.Range(0, dim).Select(i => xv[start + i * inner]).ToArray();
            var lse = row.Max() + Math.Log(row.Sum(v => Math.Exp(v - row.Max())));
            for (var i = 0; i < dim; i++)
            {
                var expected = op == "Softmax" ? Math.Exp(row[i] - lse) : row[i] - lse;
                Close(expected, y[start + i * inner], 2e-5, $"{op} axis {axis} row {r} element {i}");
            }
        }
    }

    [Fact]
    public void Broadcast_add_matches_index_arithmetic()
    {
        var a = Tensor.Uniform(new Shape(2, 1, 4), _rng, dtype: DType.Float64);
        var b = Tensor.Uniform(new Shape(3, 1), _rng, dtype: DType.Float64);
        var y = Ops.Add(a, b);
        Assert.Equal(new Shape(2, 3, 4), y.Shape);
        var (av, bv, yv) = (a.ToDoubleArray(), b.ToDoubleArray(), y.ToDoubleArray());
        for (var i = 0; i < 2; i++)
            for (var j = 0; j < 3; j++)
                for (var k = 0; k < 4; k++)
                    Close(av[i * 4 + k] + bv[j], yv[(i * 3 + j) * 4 + k], 1e-15);
    }

    [Theory]
    [InlineData(new[] { 16, 32, 26, 26 }, new[] { 1, 32, 1, 1 })] // conv bias: rows of H·W after merging
    [InlineData(new[] { 8, 12, 32, 64 }, new[] { 8, 1, 1, 64 })] // attention mask
    [InlineData(new[] { 1, 5, 1, 7 }, new[] { 3, 1, 4, 1 })] // both sides broadcast, nothing merges
    [InlineData(new[] { 6, 1, 40, 1, 300 }, new[] { 1, 1, 40, 1, 300 })] // size-1 axes among mergeable ones
    [InlineData(new[] { 4, 300, 1 }, new[] { 4, 1, 1 })] // last axis of size 1
    [InlineData(new[] { 2, 3 }, new[] { 1, 1 })]
    public void Broadcast_sub_matches_index_arithmetic_for_mergeable_and_unmergeable_axes(int[] shapeA, int[] shapeB)
    {
        // Sub, not Add, so swapped operands would show; float32, whose sizes here reach the split across cores.
        var (a, b) = (Tensor.Uniform(new Shape(shapeA), _rng), Tensor.Uniform(new Shape(shapeB), _rng));
        foreach (var (x, z, sign) in new[] { (a, b, 1f), (b, a, -1f) })
        {
            var y = Ops.Sub(x, z);
            var dims = y.Shape.Dims.ToArray();
            var (av, bv, yv) = (a.ToFloatArray(), b.ToFloatArray(), y.ToFloatArray());
            var index = new int[dims.Length];
            for (var o = 0; o < yv.Length; o++)
            {
                for (int d = dims.Length - 1, r = o; d >= 0; d--) (index[d], r) = (r % dims[d], r / dims[d]);
                int At(int[] shape) => Enumerable.Range(0, shape.Length).Aggregate(0, (acc, d) => acc * shape[d] + (shape[d] == 1 ? 0 : index[d]));
                var expected = sign * (av[At(shapeA)] - bv[At(shapeB)]);
                Assert.True(yv[o] == expected, $"{string.Join("x", shapeA)} vs {string.Join("x", shapeB)}, element {o}: {yv[o]} vs {expected}");
            }
        }
    }

    [Fact]
    public void Batched_broadcast_matmul_matches_loops_for_every_transpose()
    {
        foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
        {
            foreach (var (m, k, n) in new[] { (1, 1, 1), (3, 5, 7), (17, 33, 9), (67, 31, 65) })
            {
                var a = Tensor.Uniform(ta ? new Shape(2, 1, k, m) : new Shape(2, 1, m, k), _rng, dtype: DType.Float64);
                var b = Tensor.Uniform(tb ? new Shape(3, n, k) : new Shape(3, k, n), _rng, dtype: DType.Float64);
                var y = Ops.MatMul(a, b, ta, tb);
                Assert.Equal(new Shape(2, 3, m, n), y.Shape);
                var (av, bv, yv) = (a.ToDoubleArray(), b.ToDoubleArray(), y.ToDoubleArray());
                for (var bi = 0; bi < 2; bi++)
                    for (var bj = 0; bj < 3; bj++)
                        for (var i = 0; i < m; i++)
                            for (var j = 0; j < n; j++)
                            {
                                double s = 0;
                                for (var p = 0; p < k; p++)
                                {
                                    var x = ta ? av[bi * m * k + p * m + i] : av[bi * m * k + i * k + p];
                                    var w = tb ? bv[bj * n * k + j * k + p] : bv[bj * k * n + p * n + j];
                                    s += x * w;
                                }
                                Close(s, yv[((bi * 3 + bj) * m + i) * n + j], 1e-12, $"ta={ta} tb={tb} {m}x{k}x{n}");
                            }
            }
        }
    }

    /// <summary>A stack of matrices times one matrix (folded into one tall GEMM), in both precisions and with transB.</summary>
    [Fact]
    public void Stacked_matrices_times_one_matrix_match_loops()
    {
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        foreach (var tb in new[] { false, true })
        {
            var (batch, m, k, n) = (3, 5, 7, 4);
            var a = Tensor.Uniform(new Shape(2, batch, m, k), _rng, dtype: dtype);
            var b = Tensor.Uniform(tb ? new Shape(n, k) : new Shape(k, n), _rng, dtype: dtype);
            var y = Ops.MatMul(a, b, transB: tb);
            Assert.Equal(new Shape(2, batch, m, n), y.Shape);
            var (av, bv, yv) = (a.ToDoubleArray(), b.ToDoubleArray(), y.ToDoubleArray());
            for (var r = 0; r < 2 * batch * m; r++)
                for (var j = 0; j < n; j++)
                {
                    double sum = 0;
                    for (var p = 0; p < k; p++) sum += av[r * k + p] * (tb ? bv[j * k + p] : bv[p * n + j]);
                    Close(sum, yv[r * n + j], dtype == DType.Float64 ? 1e-12 : 1e-5, $"{dtype} tb={tb} row {r}");
                }
        }
    }

    /// <summary>Powers 2 and 1 take a fast path: same values and gradients as the general rule, broadcasting kept.</summary>
    [Fact]
    public void Square_and_first_power_match_the_general_power()
    {
        var x = Leaf(-1.5, 0, 2, 3);
        var square = Ops.Pow(x, Tensor.Scalar(2, DType.Float64));
        Close([2.25, 0, 4, 9], square, 0);
        Ops.Sum(square).Backward();
        Close([-3, 0, 4, 6], x.Grad!, 1e-15);
        Close([-1.5, 0, 2, 3], Ops.Pow(x, Tensor.FromArray([1.0])), 0);
        Assert.True(double.IsNaN(Ops.Pow(Tensor.FromArray([double.NaN]), Tensor.Scalar(2, DType.Float64)).Item()));
        var f = Tensor.FromArray([1.5f, -2f]);
        Close([2.25, 4], Ops.Pow(f, Tensor.Scalar(2)), 0);
        // an exponent of higher rank still broadcasts the shape
        Assert.Equal(new Shape(1, 2), Ops.Pow(f, Tensor.FromArray([2f], 1, 1)).Shape);
        Close(Math.Pow(1.5, 2.5), Ops.Pow(Tensor.FromArray([1.5]), Tensor.Scalar(2.5, DType.Float64)).Item(), 1e-15);
    }

    /// <summary>∂(∏x)/∂xᵢ is the product of the others — also where some of them are zero (no 0/0).</summary>
    [Fact]
    public void Product_gradients_are_exact_around_zeros()
    {
        foreach (var (x, grad) in new (double[] X, double[] Grad)[]
                 {
                     ([2, 4, 3], [12, 6, 8]),
                     ([2, 0, 3], [0, 6, 0]),
                     ([0, 5, 0], [0, 0, 0]),
                     ([-1.5, 2, 0.5], [1, -0.75, -3]),
                 })
        {
            var leaf = Leaf(x);
            var y = Ops.ReduceProd(leaf);
            Close(x.Aggregate(1.0, (a, b) => a * b), y.Item(), 1e-15);
            y.Backward();
            Close(grad, leaf.Grad!, 1e-15);
        }
        // per group along an axis: rows (1, 2, 3) and (4, 0, 6)
        var m = Leaf(1, 2, 3, 4, 0, 6);
        var rows = Ops.ReduceProd(Ops.Reshape(m, 2, 3), [1]);
        Close([6, 0], rows, 1e-15);
        Ops.Sum(rows).Backward();
        Close([6, 3, 2, 0, 24, 0], m.Grad!, 1e-15);
    }

    /// <summary>erf in float32 (its own fast kernel) over [−5, 5] within 3e-7 relative of the float64 integral.</summary>
    [Fact]
    public void Float32_erf_is_accurate_to_a_few_ulps_everywhere()
    {
        var xs = Enumerable.Range(-2000, 4001).Select(i => i / 400.0).Concat([1e-6, -1e-4, 0.4999, 0.5001, 8.9, 9.1, 30]).ToArray();
        var y = Ops.Erf(Tensor.FromArray(xs.Select(v => (float)v).ToArray())).ToDoubleArray();
        for (var i = 0; i < xs.Length; i++)
        {
            var expected = ErfByIntegration((float)xs[i]);
            Assert.True(Math.Abs(y[i] - expected) <= 3e-7 * Math.Abs(expected) + 1e-30, $"erf({(float)xs[i]}) = {y[i]}, expected {expected}");
        }
        Assert.True(float.IsNaN(Ops.Erf(Tensor.FromArray(new[] { float.NaN })).ToFloatArray()[0]));
        // Sixteen values, so the vector path (not only the scalar tail) meets NaN and the infinities.
        var special = Ops.Erf(Tensor.FromArray(Enumerable.Repeat(new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f }, 4).SelectMany(v => v).ToArray())).ToFloatArray();
        for (var i = 0; i < 16; i += 4)
        {
            Assert.True(float.IsNaN(special[i]));
            Assert.Equal([1f, -1f, 0f], special[(i + 1)..(i + 4)]);
        }
    }

    [Fact]
    public void Float32_matmul_agrees_with_float64()
    {
        var a = Tensor.Uniform(new Shape(70, 130), _rng, dtype: DType.Float64);
        var b = Tensor.Uniform(new Shape(130, 90), _rng, dtype: DType.Float64);
        var y64 = Ops.MatMul(a, b).ToDoubleArray();
        var y32 = Ops.MatMul(Ops.Cast(a, DType.Float32), Ops.Cast(b, DType.Float32)).ToDoubleArray();
        for (var i = 0; i < y64.Length; i++) Assert.True(Math.Abs(y64[i] - y32[i]) < 1e-4, $"element {i}: {y64[i]} vs {y32[i]}");
    }

    [Fact]
    public void Softmax_and_log_softmax_match_the_definition_and_survive_large_logits()
    {
        var x = Tensor.FromArray(new double[] { 1000, 1001, 1002, -5, 0, 5 }, 2, 3);
        var y = Ops.Softmax(x).ToDoubleArray();
        var l = Ops.LogSoftmax(x).ToDoubleArray();
        double[][] rows = [[0, 1, 2], [-5, 0, 5]];
        for (var r = 0; r < 2; r++)
        {
            var z = rows[r].Select(Math.Exp).Sum();
            for (var c = 0; c < 3; c++)
            {
                Close(Math.Exp(rows[r][c]) / z, y[r * 3 + c], 1e-14);
                Close(rows[r][c] - Math.Log(z), l[r * 3 + c], 1e-13);
            }
        }
        var col = Ops.Softmax(x, axis: 0).ToDoubleArray();
        Close(1, col[0] + col[3], 1e-15);
    }

    [Fact]
    public void Cross_entropy_matches_the_definition()
    {
        var logits = Tensor.FromArray(new double[] { 2, -1, 0.5, 0, 0, 3 }, 2, 3);
        var target = Tensor.FromArray(new long[] { 0, 2 });
        var lse0 = Math.Log(Math.Exp(2) + Math.Exp(-1) + Math.Exp(0.5));
        var lse1 = Math.Log(2 + Math.Exp(3));
        Close(((lse0 - 2) + (lse1 - 3)) / 2, Ops.CrossEntropy(logits, target).Item(), 1e-14);
        Close(((lse0 - 2) + (lse1 - 3)) / 2, Ops.NllLoss(Ops.LogSoftmax(logits), target).Item(), 1e-14);
        var e = Assert.Throws<ShapeException>(() => Ops.CrossEntropy(logits, Tensor.FromArray(new long[] { 0, 3 })));
        Assert.Contains("target 3 at row 1", e.Message);
    }

    [Fact]
    public void Shape_ops_move_the_right_elements()
    {
        var x = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => (double)i).ToArray(), 2, 3, 4);
        var t = Ops.Transpose(x, 2, 0, 1);
        Assert.Equal(new Shape(4, 2, 3), t.Shape);
        Close(x.GetAsDouble((1 * 3 + 2) * 4 + 3), t.GetAsDouble((3 * 2 + 1) * 3 + 2));

        var s = Ops.Slice(Tensor.FromArray(Enumerable.Range(0, 10).Select(i => (double)i).ToArray()), [8], [1], [0], [-3]);
        Close([8, 5, 2], s);
        var clamped = Ops.Slice(Tensor.FromArray(Enumerable.Range(0, 10).Select(i => (double)i).ToArray()), [-3], [int.MaxValue]);
        Close([7, 8, 9], clamped);

        var g = Ops.Gather(x, Tensor.FromArray(new long[] { 2, -3 }), axis: 1);
        Assert.Equal(new Shape(2, 2, 4), g.Shape);
        Close(x.GetAsDouble(1 * 12 + 2 * 4 + 1), g.GetAsDouble(1 * 8 + 0 * 4 + 1));
        Close(x.GetAsDouble(0 * 12 + 0 * 4 + 3), g.GetAsDouble(0 * 8 + 1 * 4 + 3));

        var parts = Ops.Split(x, 1, 1, 2);
        var back = Ops.Concat(1, parts);
        Close(x.ToDoubleArray(), back);

        var p = Ops.Pad(Tensor.FromArray(new double[] { 1, 2, 3, 4 }, 2, 2), [1, 0, 0, 1], 9);
        Close([9, 9, 9, 1, 2, 9, 3, 4, 9], p);

        var sum = Ops.ReduceSum(x, [0, 2]);
        Close(Enumerable.Range(0, 3).Select(j => Enumerable.Range(0, 2).Sum(i => Enumerable.Range(0, 4).Sum(k => (double)(i * 12 + j * 4 + k)))).ToArray(), sum);
        Close([23], Ops.ReduceMax(x, [0, 1, 2], keepDims: true));
        Assert.Equal(new Shape(1, 1, 1), Ops.ReduceMin(x, [], keepDims: true).Shape);
        Assert.Equal(new Shape(1, 6, 4, 1), Ops.Unsqueeze(Ops.Squeeze(Ops.Reshape(x, 1, 6, 4), 0), 0, 3).Shape);
        Assert.Equal(new Shape(4, 6), Ops.Reshape(x, -1, 6).Shape);
    }

    [Fact]
    public void Reshape_with_allowzero_keeps_a_literal_zero_and_its_gradient_keeps_the_empty_shape()
    {
        var x = Tensor.Zeros(new Shape(0, 3, 4), DType.Float32);
        x.RequiresGrad = true;
        var y = Ops.Call("Reshape", OpAttributes.Of(("shape", new[] { 3, 4, 0 }), ("allowzero", 1L)), x);
        Assert.Equal(new Shape(3, 4, 0), y.Shape);
        Assert.Equal(new Shape(0, 3, 4), Autograd.Grad(y, x, Tensor.Zeros(y.Shape, DType.Float32)).Shape);
        // Without allowzero a 0 copies the input's dimension.
        Assert.Equal(new Shape(2, 12), Ops.Reshape(Tensor.Zeros(new Shape(2, 3, 4), DType.Float32), 0, -1).Shape);
    }

    [Fact]
    public void Max_and_min_over_an_empty_set_are_their_identities()
    {
        // ONNX's ReduceMax / ReduceMin: the maximum of nothing is −∞, the minimum +∞; the gradient is empty.
        var x = Tensor.Zeros(new Shape(2, 0, 4), DType.Float32);
        x.RequiresGrad = true;
        var max = Ops.ReduceMax(x, [1], keepDims: true);
        Assert.Equal(new Shape(2, 1, 4), max.Shape);
        Assert.All(max.ToDoubleArray(), v => Assert.Equal(double.NegativeInfinity, v));
        Assert.All(Ops.ReduceMin(x, [1], keepDims: false).ToDoubleArray(), v => Assert.Equal(double.PositiveInfinity, v));
        Assert.Equal(new Shape(2, 0, 4), Autograd.Grad(max, x, Tensor.Ones(max.Shape, DType.Float32)).Shape);
    }

    [Theory]
    [InlineData(0, 2, 1, 3)] // attention heads: runs of 32 along the last axis
    [InlineData(0, 2, 3, 1)] // keys transposed: a stride along the last axis
    [InlineData(3, 1, 0, 2)]
    public void Large_transposes_and_slices_split_across_cores_move_every_element(int p0, int p1, int p2, int p3)
    {
        // 6 × 64 × 12 × 32 = 147,456 elements: above the size (131,072) at which the copy is split into row ranges.
        int[] dims = [6, 64, 12, 32], perm = [p0, p1, p2, p3];
        var values = Enumerable.Range(0, dims.Aggregate(1, (a, b) => a * b)).Select(i => (float)i).ToArray();
        var x = Tensor.FromArray(values, dims);
        var t = Ops.Transpose(x, perm).ToFloatArray();
        var od = perm.Select(p => dims[p]).ToArray();
        var index = new int[4];
        for (var o = 0; o < t.Length; o++)
        {
            for (int d = 3, r = o; d >= 0; d--) (index[perm[d]], r) = (r % od[d], r / od[d]);
            var source = ((index[0] * dims[1] + index[1]) * dims[2] + index[2]) * dims[3] + index[3];
            Assert.True(t[o] == values[source], $"perm {string.Join(",", perm)} element {o}: {t[o]} vs {values[source]}");
        }
        var slice = Ops.Slice(x, [2], [64], [1]).ToFloatArray(); // 6 × 62 × 12 × 32 = 142,848 elements, offset 768
        var k = 0;
        for (var a = 0; a < 6; a++)
            for (var b = 2; b < 64; b++)
                for (var c = 0; c < 12 * 32; c++, k++)
                    Assert.True(slice[k] == values[(a * 64 + b) * 12 * 32 + c], $"slice element {k}");
        Assert.Equal(k, slice.Length);
    }

    [Fact]
    public void Where_and_clip_and_compare()
    {
        var c = Tensor.FromArray(new[] { true, false, true });
        Close([1, 20, 3], Ops.Where(c, D(1, 2, 3), D(10, 20, 30)));
        Close([-1, 0.5, 2], Ops.Clip(D(-5, 0.5, 9), -1, 2));
        Assert.Equal([false, false, true], Ops.Greater(D(1, 2, 3), D(2)).Span<bool>().ToArray());
    }
    [Theory]
    [InlineData(3, 7, false)]
    [InlineData(300, 384, false)]
    [InlineData(5, 33, true)]
    public void Fused_layer_norm_matches_plain_loops(int rows, int width, bool float64)
    {
        // Without gradients the fused one-pass kernel runs; rows × width ≥ 2^15 takes the multi-threaded path.
        var x = Enumerable.Range(0, rows * width).Select(_ => 3 + 2 * _rng.NextDouble()).ToArray();
        var gamma = Enumerable.Range(0, width).Select(_ => -1 + 2 * _rng.NextDouble()).ToArray();
        var beta = Enumerable.Range(0, width).Select(_ => -1 + 2 * _rng.NextDouble()).ToArray();
        Tensor T(double[] v, params int[] dims) => float64 ? Tensor.FromArray(v, dims) : Tensor.FromArray(v.Select(e => (float)e).ToArray(), dims);
        Tensor y;
        using (Backprop.Runtime.GradMode.NoGrad())
            y = Ops.LayerNorm(T(x, rows, width), T(gamma, width), T(beta, width), epsilon: 1e-5);
        var got = y.ToDoubleArray();
        for (var r = 0; r < rows; r++)
        {
            double mean = 0, variance = 0;
            for (var i = 0; i < width; i++) mean += x[r * width + i] / width;
            for (var i = 0; i < width; i++) variance += (x[r * width + i] - mean) * (x[r * width + i] - mean) / width;
            for (var i = 0; i < width; i++)
            {
                var expected = (x[r * width + i] - mean) / Math.Sqrt(variance + 1e-5) * gamma[i] + beta[i];
                Close(expected, got[r * width + i], float64 ? 1e-12 : 2e-5, $"row {r} element {i}");
            }
        }
    }
    [Theory]
    [InlineData(3, 3, 2, 2, 1, 1, 1, 1, 23, 30)]
    [InlineData(2, 2, 2, 2, 0, 0, 1, 1, 8, 64)]
    [InlineData(3, 2, 1, 3, 1, 0, 2, 1, 9, 40)]
    [InlineData(1, 5, 1, 1, 0, 2, 1, 2, 1, 50)]
    [InlineData(3, 3, 2, 2, 1, 1, 1, 1, 57, 64)] // enough work for one band of output rows per core
    public void Values_only_max_pool_matches_plain_loops(int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int h, int w)
    {
        // Without gradients the values-only kernel runs; NaNs must propagate and windows partly in the padding shrink.
        var (n, c) = (2, 3);
        var x = Enumerable.Range(0, n * c * h * w).Select(i => i % 97 == 5 ? double.NaN : -5 + 10 * _rng.NextDouble()).ToArray();
        var attributes = OpAttributes.Of(("kernel_shape", new[] { kh, kw }), ("strides", new[] { sh, sw }), ("pads", new[] { ph, pw, ph, pw }), ("dilations", new[] { dh, dw }));
        var (oh, ow) = ((h + 2 * ph - dh * (kh - 1) - 1) / sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1);
        foreach (var float64 in new[] { false, true })
        {
            var input = float64 ? Tensor.FromArray(x, n, c, h, w) : Tensor.FromArray(x.Select(v => (float)v).ToArray(), n, c, h, w);
            Tensor y;
            using (Backprop.Runtime.GradMode.NoGrad())
                y = TestEnv.Runtime.Invoke(Ops.BackpropDomain, "MaxPoolValues", [input], attributes)[0];
            Assert.Equal(new Shape(n, c, oh, ow), y.Shape);
            var got = y.ToDoubleArray();
            var values = input.ToDoubleArray();
            for (var plane = 0; plane < n * c; plane++)
            for (var oy = 0; oy < oh; oy++)
            for (var ox = 0; ox < ow; ox++)
            {
                var best = double.NegativeInfinity;
                for (var i = 0; i < kh; i++)
                for (var j = 0; j < kw; j++)
                {
                    var (iy, ix) = (oy * sh - ph + i * dh, ox * sw - pw + j * dw);
                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                    var v = values[(plane * h + iy) * w + ix];
                    best = double.IsNaN(v) || double.IsNaN(best) ? double.NaN : Math.Max(best, v);
                }
                var actual = got[(plane * oh + oy) * ow + ox];
                Assert.True(double.IsNaN(best) ? double.IsNaN(actual) : actual == best, $"float64={float64} plane {plane} ({oy}, {ox}): {actual} vs {best}");
            }
        }
    }
    [Theory]
    [InlineData(2, 16, 17, 13, 20, 1, 1, 1, 1, false)]
    [InlineData(1, 24, 16, 29, 19, 1, 0, 2, 1, false)]
    [InlineData(3, 16, 32, 16, 16, 0, 0, 0, 0, true)]
    [InlineData(1, 20, 28, 22, 23, 1, 1, 1, 1, false)] // F(4×4, 3×3) (both sides ≥ 20): partial 4×4 tiles on both edges
    [InlineData(2, 20, 20, 24, 21, 0, 1, 2, 1, true)]  // F(4×4, 3×3) in float64, uneven pads
    [InlineData(2, 18, 18, 40, 40, 1, 1, 1, 1, false)] // F(4×4, 3×3) split into bands of tile rows
    [InlineData(1, 18, 60, 20, 20, 1, 1, 1, 1, false)] // F(4×4, 3×3) split by output channels (they outnumber the 25 tiles)
    [InlineData(1, 16, 24, 24, 24, 1, 1, 1, 1, false)] // the direct kernel (with AVX-512): 36 tiles of 4 × 4 are too few for Winograd's rows
    [InlineData(2, 16, 24, 40, 40, 1, 1, 1, 1, false)] // Winograd F(4×4) rows (float32, AVX-512, filters in blocks of 8), both ways
    [InlineData(2, 16, 24, 22, 23, 1, 1, 1, 1, false)] // F(4×4) rows: partial tiles on both edges (22 = 5·4 + 2, 23 = 5·4 + 3)
    [InlineData(4, 16, 96, 14, 14, 1, 1, 1, 1, false)] // F(4×4) rows split by output channels (64 tiles, 96 filters), bands backwards
    [InlineData(1, 16, 16, 62, 66, 0, 0, 2, 0, false)] // F(4×4) rows of 16 tiles reading to the 66th column; uneven pads both ways
    public void Three_by_three_convolution_matches_plain_loops(int n, int c, int m, int h, int w, int top, int left, int bottom, int right, bool float64)
    {
        // Shapes with ≥ 16 channels each way and ≥ 100 output tiles of 2×2 take the Winograd path. With AVX-512 and output
        // channels in blocks of 8, float32 takes F(4×4) with its row transforms from 64 tiles of 4 × 4 and the direct kernel
        // below that; with channel counts that are not multiples of 8 (both ways for the input gradient) the generic
        // Winograd path; odd sizes leave partial tiles.
        var x = Enumerable.Range(0, n * c * h * w).Select(_ => -1 + 2 * _rng.NextDouble()).ToArray();
        var k = Enumerable.Range(0, m * c * 9).Select(_ => -1 + 2 * _rng.NextDouble()).ToArray();
        Tensor T(double[] v, params int[] dims) => float64 ? Tensor.FromArray(v, dims) : Tensor.FromArray(v.Select(e => (float)e).ToArray(), dims);
        var attributes = OpAttributes.Of(("pads", new[] { top, left, bottom, right }));
        var input = T(x, n, c, h, w);
        input.RequiresGrad = true;
        var y = Ops.Call("Conv", attributes, input, T(k, m, c, 3, 3));
        var (oh, ow) = (h + top + bottom - 2, w + left + right - 2);
        // The input gradient for seed G (Winograd again when the transposed problem qualifies) against plain loops too.
        var seed = Enumerable.Range(0, n * m * oh * ow).Select(_ => -1 + 2 * _rng.NextDouble()).ToArray();
        Ops.ReduceSum(y * T(seed, n, m, oh, ow)).Backward();
        var dx = input.Grad!.ToDoubleArray();
        for (var b = 0; b < n; b++)
        for (var ch = 0; ch < c; ch++)
        for (var r = 0; r < h; r++)
        for (var q = 0; q < w; q++)
        {
            double sum = 0, magnitude = 0;
            for (var o = 0; o < m; o++)
            for (var di = 0; di < 3; di++)
            for (var dj = 0; dj < 3; dj++)
            {
                var (i, j) = (r + top - di, q + left - dj);
                if (i >= 0 && i < oh && j >= 0 && j < ow)
                {
                    var term = seed[((b * m + o) * oh + i) * ow + j] * k[((o * c + ch) * 3 + di) * 3 + dj];
                    (sum, magnitude) = (sum + term, magnitude + Math.Abs(term));
                }
            }
            Near(sum, magnitude, dx[((b * c + ch) * h + r) * w + q], float64, $"input gradient, sample {b} channel {ch} at ({r}, {q})");
        }
        Assert.Equal(new Shape(n, m, oh, ow), y.Shape);
        var got = y.ToDoubleArray();
        for (var b = 0; b < n; b++)
        for (var o = 0; o < m; o++)
        for (var i = 0; i < oh; i++)
        for (var j = 0; j < ow; j++)
        {
            double sum = 0, magnitude = 0;
            for (var ch = 0; ch < c; ch++)
            for (var di = 0; di < 3; di++)
            for (var dj = 0; dj < 3; dj++)
            {
                var (r, q) = (i - top + di, j - left + dj);
                if (r >= 0 && r < h && q >= 0 && q < w)
                {
                    var term = x[((b * c + ch) * h + r) * w + q] * k[((o * c + ch) * 3 + di) * 3 + dj];
                    (sum, magnitude) = (sum + term, magnitude + Math.Abs(term));
                }
            }
            Near(sum, magnitude, got[((b * m + o) * oh + i) * ow + j], float64, $"sample {b} channel {o} at ({i}, {j})");
        }
    }

    /// <summary>
    /// A float64 result to 1e-12; a float32 one to 6e-6 of Σ|terms|, the scale of its rounding: Winograd's F(4×4, 3×3)
    /// transforms carry constants up to 8 (squared in two dimensions) and 1⁄24, so its float32 error (largest seen here
    /// 2.4e-6 of Σ|terms|) is larger than a plain dot product's, while a wrong tap or coefficient is off by a whole term
    /// (about Σ|terms| over the number of terms, ~1e-3 of it in these cases).
    /// </summary>
    private static void Near(double expected, double magnitude, double actual, bool float64, string what) =>
        Assert.True(float64 ? Math.Abs(expected - actual) <= 1e-12 * Math.Max(1, Math.Abs(expected)) : Math.Abs(expected - actual) <= 6e-6 * magnitude + 1e-7,
            $"{what}: expected {expected}, got {actual} (Σ|terms| {magnitude})");
}
