using Backprop.Training;

namespace Backprop.Runtime.Tests.Training;

/// <summary>Optimizer mechanics by hand-computed values (PyTorch trajectories are checked in Backprop.Onnx.Tests).</summary>
public class OptimizerTests
{
    private static KeyValuePair<string, Tensor> Param(string name, params float[] values)
    {
        var t = Tensor.FromArray(values, values.Length);
        t.RequiresGrad = true;
        return new(name, t);
    }

    [Fact]
    public void Sgd_heavy_ball_momentum_by_hand()
    {
        var p = Param("p", 1f);
        var sgd = new Sgd([p], 0.1, momentum: 0.5);
        p.Value.Grad = Tensor.FromArray([2f], 1);
        sgd.Step(); // b = 2, p = 1 - 0.2
        Assert.Equal(0.8f, p.Value.ToFloatArray()[0], 6);
        p.Value.Grad = Tensor.FromArray([2f], 1);
        sgd.Step(); // b = 0.5*2 + 2 = 3, p = 0.8 - 0.3
        Assert.Equal(0.5f, p.Value.ToFloatArray()[0], 6);
    }

    [Fact]
    public void Large_parameters_updated_in_pieces_across_cores_follow_the_formula_everywhere()
    {
        // 300,001 elements: the update is split into 65,536-element pieces with a ragged last one.
        const int n = 300_001;
        var rng = new Random(5);
        var p0 = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var grads = Enumerable.Range(0, 2).Select(_ => Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray()).ToArray();
        var p = Param("p", p0);
        var sgd = new Sgd([p], 0.1, momentum: 0.9, weightDecay: 0.01);
        var (expected, buffer) = (p0.Select(v => (double)v).ToArray(), new double[n]);
        for (var step = 0; step < 2; step++)
        {
            p.Value.Grad = Tensor.FromArray(grads[step], n);
            sgd.Step();
            for (var i = 0; i < n; i++)
            {
                // PyTorch's SGD: g += wd·p; b = g on the first step, else μb + g; p -= lr·b (in float32 storage)
                var g = grads[step][i] + 0.01 * expected[i];
                buffer[i] = step == 0 ? g : 0.9 * buffer[i] + g;
                expected[i] = (float)(expected[i] - 0.1 * buffer[i]);
            }
        }
        var actual = p.Value.ToFloatArray();
        for (var i = 0; i < n; i++) Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-6, $"element {i}: {actual[i]} vs {expected[i]}");
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("adamw")]
    [InlineData("sgd-dampened")]
    [InlineData("sgd-plain")]
    public void Float64_updates_follow_the_pytorch_formulas_on_every_element_of_a_partial_vector(string kind)
    {
        // 13 elements: whole SIMD vectors and a ragged rest; float64 so the formulas can be checked to 1e-14.
        const int n = 13;
        var rng = new Random(9);
        var p0 = Enumerable.Range(0, n).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var p = Tensor.FromArray(p0.ToArray(), n);
        p.RequiresGrad = true;
        var (lr, wd) = (0.05, 0.1);
        ParamGroup[] groups = [ParamGroup.Of([new("p", p)])];
        Optimizer optimizer = kind switch
        {
            "adam" => new Adam(groups, lr, weightDecay: wd),
            "adamw" => new AdamW(groups, lr, weightDecay: wd),
            "sgd-dampened" => new Sgd(groups, lr, momentum: 0.8, dampening: 0.3, weightDecay: wd),
            _ => new Sgd(groups, lr, weightDecay: wd),
        };
        var (expected, m, v) = (p0.ToArray(), new double[n], new double[n]);
        for (var step = 1; step <= 3; step++)
        {
            var grad = Enumerable.Range(0, n).Select(_ => rng.NextDouble() - 0.5).ToArray();
            p.Grad = Tensor.FromArray(grad.ToArray(), n);
            optimizer.Step();
            for (var i = 0; i < n; i++)
            {
                var g = grad[i];
                switch (kind)
                {
                    case "adam" or "adamw":
                        if (kind == "adamw") expected[i] *= 1 - lr * wd;
                        else g += wd * expected[i];
                        m[i] = 0.9 * m[i] + 0.1 * g;
                        v[i] = 0.999 * v[i] + 0.001 * g * g;
                        var denominator = Math.Sqrt(v[i]) / Math.Sqrt(1 - Math.Pow(0.999, step)) + 1e-8;
                        expected[i] -= lr / (1 - Math.Pow(0.9, step)) * m[i] / denominator;
                        break;
                    case "sgd-dampened":
                        g += wd * expected[i];
                        m[i] = step == 1 ? g : 0.8 * m[i] + 0.7 * g;
                        expected[i] -= lr * m[i];
                        break;
                    default:
                        expected[i] -= lr * (g + wd * expected[i]);
                        break;
                }
            }
            var actual = p.ToDoubleArray();
            for (var i = 0; i < n; i++) Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-14, $"{kind} step {step} element {i}: {actual[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void Parameter_groups_use_their_own_learning_rates_and_schedules_scale_them()
    {
        var (a, b) = (Param("a", 0f), Param("b", 0f));
        var sgd = new Sgd([ParamGroup.Of([a]), ParamGroup.Of([b]) with { LearningRate = 1.0 }], 0.1)
        {
            Schedule = LearningRateSchedule.StepDecay(1, 0.5),
        };
        for (var i = 0; i < 2; i++)
        {
            a.Value.Grad = Tensor.FromArray([1f], 1);
            b.Value.Grad = Tensor.FromArray([1f], 1);
            sgd.Step();
        }
        Assert.Equal(-(0.1f + 0.05f), a.Value.ToFloatArray()[0], 6);
        Assert.Equal(-(1f + 0.5f), b.Value.ToFloatArray()[0], 6);
    }

    [Fact]
    public void Schedules_have_their_textbook_values()
    {
        var cosine = LearningRateSchedule.Cosine(10);
        Assert.Equal(1, cosine.Factor(0), 12);
        Assert.Equal(0.5, cosine.Factor(5), 12);
        Assert.Equal(0, cosine.Factor(10), 12);
        var warm = LearningRateSchedule.LinearWarmup(3, LearningRateSchedule.StepDecay(2, 0.1));
        Assert.Equal([0.25, 0.5, 0.75, 1, 1, 0.1], Enumerable.Range(0, 6).Select(s => Math.Round(warm.Factor(s), 12)));
    }

    [Fact]
    public void Global_norm_clipping_scales_all_gradients_together()
    {
        var (a, b) = (Param("a", 0f, 0f), Param("b", 0f));
        a.Value.Grad = Tensor.FromArray([3f, 0f], 2);
        b.Value.Grad = Tensor.FromArray([4f], 1);
        var norm = GradClip.ClipGlobalNorm([a.Value, b.Value], 1);
        Assert.Equal(5, norm, 6);
        Assert.Equal(0.6f, a.Value.Grad!.ToFloatArray()[0], 5);
        Assert.Equal(0.8f, b.Value.Grad!.ToFloatArray()[0], 5);
    }

    [Fact]
    public void Global_norm_of_long_float32_and_float64_gradients_is_the_double_precision_norm()
    {
        var rng = new Random(3);
        var (a, b) = (Param("a", new float[1001]), new KeyValuePair<string, Tensor>("b", Tensor.FromArray(new double[37], 37)));
        var ga = Enumerable.Range(0, 1001).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var gb = Enumerable.Range(0, 37).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        (a.Value.Grad, b.Value.Grad) = (Tensor.FromArray(ga, 1001), Tensor.FromArray(gb, 37));
        var expected = Math.Sqrt(ga.Sum(v => (double)v * v) + gb.Sum(v => v * v));
        var norm = GradClip.ClipGlobalNorm([a.Value, b.Value], expected / 2);
        Assert.Equal(expected, norm, 1e-12 * expected);
        Assert.Equal(ga[1000] * 0.5f, a.Value.Grad!.ToFloatArray()[1000], 5);
        Assert.Equal(gb[36] * 0.5, b.Value.Grad!.ToDoubleArray()[36], 5);
    }

    [Theory]
    [InlineData(false, 5, float.NaN)]
    [InlineData(false, 97, float.PositiveInfinity)]
    [InlineData(true, 5, float.NegativeInfinity)]
    [InlineData(true, 98, float.NaN)]
    public void A_non_finite_value_anywhere_in_a_long_gradient_skips_the_step(bool float64, int at, float bad)
    {
        // 99 elements: whole SIMD vectors and a ragged rest, the bad value in one or the other.
        var p = float64 ? Tensor.FromArray(new double[99], 99) : Tensor.FromArray(new float[99], 99);
        var sgd = new Sgd([new KeyValuePair<string, Tensor>("p", p)], 0.1) { SkipNonFiniteSteps = true };
        var grad = Enumerable.Repeat(1e30, 99).ToArray(); // large but finite: x − x stays 0
        grad[at] = bad;
        p.Grad = float64 ? Tensor.FromArray(grad, 99) : Tensor.FromArray(grad.Select(v => (float)v).ToArray(), 99);
        Assert.False(sgd.Step());
        Assert.All(p.ToDoubleArray(), v => Assert.Equal(0, v));
        p.Grad = float64 ? Tensor.FromArray(Enumerable.Repeat(1e30, 99).ToArray(), 99) : Tensor.FromArray(Enumerable.Repeat(1e30f, 99).ToArray(), 99);
        Assert.True(sgd.Step());
    }

    [Fact]
    public void Non_finite_steps_are_skipped_and_counted_when_asked()
    {
        var p = Param("p", 1f);
        var adam = new Adam([ParamGroup.Of([p])], 0.1) { SkipNonFiniteSteps = true };
        p.Value.Grad = Tensor.FromArray([float.NaN], 1);
        Assert.False(adam.Step());
        Assert.Equal(1f, p.Value.ToFloatArray()[0]);
        Assert.Equal(1, adam.SkippedSteps);
        Assert.Null(p.Value.Grad);
        p.Value.Grad = Tensor.FromArray([1f], 1);
        Assert.True(adam.Step());
        Assert.Equal(0.9f, p.Value.ToFloatArray()[0], 5); // Adam's first step moves by lr·sign(g)
    }

    [Fact]
    public void State_dict_round_trip_continues_identically()
    {
        var p1 = Param("p", 1f, -2f);
        var p2 = Param("p", 1f, -2f);
        var a = new AdamW([ParamGroup.Of([p1])], 0.05);
        var b = new AdamW([ParamGroup.Of([p2])], 0.05);
        p1.Value.Grad = Tensor.FromArray([0.3f, -0.1f], 2);
        a.Step();
        p2.Value.CopyFrom(p1.Value);
        b.LoadStateDict(a.StateDict());
        foreach (var (p, opt) in new[] { (p1, a), (p2, b) })
        {
            p.Value.Grad = Tensor.FromArray([0.2f, 0.4f], 2);
            opt.Step();
        }
        Assert.Equal(p1.Value.ToFloatArray(), p2.Value.ToFloatArray());
        Assert.Equal(a.StepCount, b.StepCount);
    }

    [Fact]
    public void Losses_match_hand_computed_values()
    {
        using var _ = GradMode.NoGrad();
        var logits = Tensor.FromArray([0f, 0f], 1, 2);
        var target = Tensor.FromArray([1L], 1);
        Assert.Equal(Math.Log(2), Losses.CrossEntropy(logits, target, labelSmoothing: 0.2).Item(), 6);
        var skew = Tensor.FromArray([2f, 0f], 1, 2);
        var p0 = Math.Exp(2) / (Math.Exp(2) + 1);
        // q = (0.1, 0.9): −0.1 log p0 − 0.9 log p1
        Assert.Equal(-0.1 * Math.Log(p0) - 0.9 * Math.Log(1 - p0), Losses.CrossEntropy(skew, target, labelSmoothing: 0.2).Item(), 5);
        var two = Tensor.FromArray([2f, 0f, 0f, 2f], 2, 2);
        var labels = Tensor.FromArray([0L, 0L], 2);
        var weighted = Losses.CrossEntropy(two, labels, classWeights: [3, 1]);
        Assert.Equal((-Math.Log(p0) - Math.Log(1 - p0)) / 2, weighted.Item(), 5); // both targets class 0: weights cancel
        Assert.Equal(Math.Log(1 + Math.Exp(-1.0)), Losses.BceWithLogits(Tensor.FromArray([1f], 1), Tensor.FromArray([1f], 1)).Item(), 6);
        Assert.Equal(0.5, Losses.L1(Tensor.FromArray([1f, 2f], 2), Tensor.FromArray([1.5f, 1.5f], 2)).Item(), 6);
    }
}
