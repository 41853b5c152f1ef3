using Backprop.Runtime;

namespace Backprop.Tests;

/// <summary>Convolution and pooling forwards against direct loops written here.</summary>
public class ConvOracleTests
{
    private readonly Random _rng = new(9);

    public ConvOracleTests() => _ = TestEnv.Runtime;

    [Theory]
    [InlineData(1, 1, 1, 1, 1, 0, 0, false)]
    [InlineData(2, 1, 2, 1, 1, 1, 2, false)]
    [InlineData(1, 2, 1, 2, 2, 2, 1, false)]
    [InlineData(2, 3, 2, 1, 3, 1, 0, false)]
    [InlineData(1, 1, 1, 1, 2, 1, 1, true)] // large enough that im2col and the plane copies split across cores
    public void Conv2d_matches_the_direct_sum(int stride, int dilation, int padTop, int padLeft, int group, int padBottom, int padRight, bool large)
    {
        int n = 2, cg = large ? 4 : 2, mg = large ? 8 : 2, h = large ? 64 : 7, w = large ? 72 : 8, kh = 3, kw = 2;
        int c = cg * group, m = mg * group;
        var x = Tensor.Uniform(new Shape(n, c, h, w), _rng, dtype: DType.Float64);
        var wt = Tensor.Uniform(new Shape(m, cg, kh, kw), _rng, dtype: DType.Float64);
        var b = Tensor.Uniform(new Shape(m), _rng, dtype: DType.Float64);
        var attrs = OpAttributes.Of(("strides", new[] { stride, stride }), ("dilations", new[] { dilation, dilation }),
            ("pads", new[] { padTop, padLeft, padBottom, padRight }), ("group", group));
        var y = Ops.Call("Conv", attrs, x, wt, b);
        var oh = (h + padTop + padBottom - dilation * (kh - 1) - 1) / stride + 1;
        var ow = (w + padLeft + padRight - dilation * (kw - 1) - 1) / stride + 1;
        Assert.Equal(new Shape(n, m, oh, ow), y.Shape);
        var (xv, wv, bv, yv) = (x.ToDoubleArray(), wt.ToDoubleArray(), b.ToDoubleArray(), y.ToDoubleArray());
        for (var ni = 0; ni < n; ni++)
        for (var mi = 0; mi < m; mi++)
        for (var i = 0; i < oh; i++)
        for (var j = 0; j < ow; j++)
        {
            var s = bv[mi];
            var grp = mi / mg;
            for (var ci = 0; ci < cg; ci++)
            for (var a = 0; a < kh; a++)
            for (var bb = 0; bb < kw; bb++)
            {
                var ih = i * stride - padTop + a * dilation;
                var iw = j * stride - padLeft + bb * dilation;
                if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                s += xv[((ni * c + grp * cg + ci) * h + ih) * w + iw] * wv[((mi * cg + ci) * kh + a) * kw + bb];
            }
            TestEnv.Close(s, yv[((ni * m + mi) * oh + i) * ow + j], 1e-12, $"y[{ni},{mi},{i},{j}]");
        }
    }

    [Fact]
    public void Conv1d_equals_conv2d_with_height_one()
    {
        var x = Tensor.Uniform(new Shape(2, 3, 11), _rng, dtype: DType.Float64);
        var w = Tensor.Uniform(new Shape(4, 3, 3), _rng, dtype: DType.Float64);
        var a1 = OpAttributes.Of(("strides", new[] { 2 }), ("pads", new[] { 1, 1 }));
        var a2 = OpAttributes.Of(("strides", new[] { 1, 2 }), ("pads", new[] { 0, 1, 0, 1 }));
        var y1 = Ops.Call("Conv", a1, x, w);
        var y2 = Ops.Call("Conv", a2, Ops.Unsqueeze(x, 2), Ops.Unsqueeze(w, 2));
        TestEnv.Close(y2.ToDoubleArray(), y1, 1e-13);
    }

    [Fact]
    public void Pooling_matches_window_loops()
    {
        var x = Tensor.Uniform(new Shape(1, 2, 5, 6), _rng, dtype: DType.Float64);
        var attrs = OpAttributes.Of(("kernel_shape", new[] { 3, 2 }), ("strides", new[] { 2, 2 }), ("pads", new[] { 1, 0, 1, 1 }));
        var max = Ops.CallMulti("", "MaxPool", attrs, x)[0].ToDoubleArray();
        var avg = Ops.Call("AveragePool", attrs, x).ToDoubleArray();
        var xv = x.ToDoubleArray();
        var o = 0;
        for (var c = 0; c < 2; c++)
        for (var i = 0; i < 3; i++)
        for (var j = 0; j < 3; j++, o++)
        {
            var best = double.NegativeInfinity;
            double sum = 0;
            var count = 0;
            for (var a = 0; a < 3; a++)
            for (var b = 0; b < 2; b++)
            {
                var ih = i * 2 - 1 + a;
                var iw = j * 2 + b;
                if (ih < 0 || ih >= 5 || iw >= 6) continue;
                var v = xv[(c * 5 + ih) * 6 + iw];
                best = Math.Max(best, v);
                sum += v;
                count++;
            }
            TestEnv.Close(best, max[o], 1e-15, $"max {o}");
            TestEnv.Close(sum / count, avg[o], 1e-14, $"avg {o}");
        }
        var gap = Ops.Call("GlobalAveragePool", x);
        Assert.Equal(new Shape(1, 2, 1, 1), gap.Shape);
        TestEnv.Close(xv.Take(30).Average(), gap.GetAsDouble(0), 1e-14);
    }

    /// <summary>
    /// AveragePool whose one window is the whole plane (ResNet exports' last pool, 7 × 7 on 7 × 7): each plane's mean, and
    /// a gradient spread evenly, both float32 (a vector sum) and float64.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AveragePool_over_the_whole_plane_is_its_mean_and_spreads_the_gradient_evenly(bool f64)
    {
        var x = Tensor.Uniform(new Shape(3, 5, 7, 6), _rng, dtype: f64 ? DType.Float64 : DType.Float32);
        var seed = Tensor.Uniform(new Shape(3, 5, 1, 1), _rng, dtype: x.DType);
        x.RequiresGrad = true;
        var y = Ops.Call("AveragePool", OpAttributes.Of(("kernel_shape", new[] { 7, 6 })), x);
        Assert.Equal(new Shape(3, 5, 1, 1), y.Shape);
        var dx = Autograd.Grad(y, x, seed).ToDoubleArray();
        var (xv, yv, sv) = (x.ToDoubleArray(), y.ToDoubleArray(), seed.ToDoubleArray());
        for (var plane = 0; plane < 15; plane++)
        {
            TestEnv.Close(xv.Skip(plane * 42).Take(42).Average(), yv[plane], f64 ? 1e-14 : 1e-6, $"mean of plane {plane}");
            for (var e = 0; e < 42; e++) TestEnv.Close(sv[plane] / 42, dx[plane * 42 + e], f64 ? 1e-14 : 1e-6, $"dX[{plane}, {e}]");
        }
    }

    [Fact]
    public void MaxPool_2x2_stride_2_fast_path_matches_the_window_loop()
    {
        var x = Tensor.Uniform(new Shape(2, 3, 7, 9), _rng, dtype: DType.Float32);
        var outputs = Ops.CallMulti("", "MaxPool", OpAttributes.Of(("kernel_shape", new[] { 2, 2 }), ("strides", new[] { 2, 2 })), x);
        Assert.Equal(new Shape(2, 3, 3, 4), outputs[0].Shape);
        var (xv, yv, iv) = (x.ToDoubleArray(), outputs[0].ToDoubleArray(), outputs[1].ToInt64Array());
        var o = 0;
        for (var plane = 0; plane < 6; plane++)
        for (var i = 0; i < 3; i++)
        for (var j = 0; j < 4; j++, o++)
        {
            var at = plane * 63 + 2 * i * 9 + 2 * j;
            int[] window = [at, at + 1, at + 9, at + 10];
            var best = window.Max(k => xv[k]);
            TestEnv.Close(best, yv[o], 0, $"max {o}");
            Assert.Equal(window.First(k => xv[k] == best), iv[o]);
        }
    }

    [Theory]
    [InlineData(3, 2, 1, 0)] // ResNet's stem pool, large enough to be split across cores
    [InlineData(2, 2, 0, 0)] // the 2×2 fast path, split across cores
    [InlineData(2, 2, 0, 1)] // ceil_mode on odd sizes: the last window sticks out, so the fast path must not take it
    [InlineData(3, 2, 1, 0, true)] // the stem pool in float64 (four lanes a vector)
    [InlineData(3, 1, 1, 1)] // stride 1, ceil_mode: interior windows a vector at a time, both edges one by one
    [InlineData(4, 3, 2, 0)] // stride 3, window 4, wide pads
    [InlineData(2, 2, 0, 0, false, true)] // the 2×2 fast path on planes of 4 × 5 outputs: 8 at a time across rows
    public void MaxPool_on_many_planes_picks_the_first_maximum_and_propagates_NaN(int k, int stride, int pad, int ceil, bool f64 = false, bool small = false)
    {
        // Values on a coarse grid so windows hold ties; a few NaNs.
        var (n, c, h, w) = small ? (4, 8, 9, 11) : (4, 8, 33, 31);
        var xv = Enumerable.Range(0, n * c * h * w).Select(_ => Math.Round(_rng.NextDouble() * 8) / 8).ToArray();
        foreach (var at in new[] { 5, 1000, 3001, 20_000 }) xv[at % xv.Length] = double.NaN;
        var x = f64 ? Tensor.FromArray(xv, n, c, h, w) : Tensor.FromArray(xv.Select(v => (float)v).ToArray(), n, c, h, w);
        var attrs = OpAttributes.Of(("kernel_shape", new[] { k, k }), ("strides", new[] { stride, stride }), ("pads", new[] { pad, pad, pad, pad }), ("ceil_mode", (long)ceil));
        var outputs = Ops.CallMulti("", "MaxPool", attrs, x);
        int Out(int size) => ceil == 1 ? (size + 2 * pad - k + stride - 1) / stride + 1 : (size + 2 * pad - k) / stride + 1;
        var (oh, ow) = (Out(h), Out(w));
        Assert.Equal(new Shape(n, c, oh, ow), outputs[0].Shape);
        var (yv, iv) = (outputs[0].ToDoubleArray(), outputs[1].ToInt64Array());
        var o = 0;
        for (var plane = 0; plane < n * c; plane++)
        for (var i = 0; i < oh; i++)
        for (var j = 0; j < ow; j++, o++)
        {
            var (best, first) = (double.NegativeInfinity, -1L);
            for (var a = 0; a < k; a++)
            for (var b = 0; b < k; b++)
            {
                var (ih, iw) = (i * stride - pad + a, j * stride - pad + b);
                if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                var index = (long)plane * h * w + ih * w + iw;
                var v = xv[index];
                if (double.IsNaN(best)) continue;
                if (double.IsNaN(v) || v > best) (best, first) = (v, index);
            }
            Assert.True(double.IsNaN(best) ? double.IsNaN(yv[o]) : yv[o] == best, $"value {o}: {yv[o]} vs {best}");
            Assert.Equal(first, iv[o]);
        }
    }

    [Fact]
    public void Bad_convolution_shapes_say_what_is_wrong()
    {
        var e = Assert.Throws<ShapeException>(() => Ops.Call("Conv", OpAttributes.Empty, Tensor.Zeros(new Shape(1, 3, 5, 5)), Tensor.Zeros(new Shape(2, 4, 3, 3))));
        Assert.Contains("channels", e.Message);
        var f = Assert.Throws<ShapeException>(() => Ops.Call("Conv", OpAttributes.Empty, Tensor.Zeros(new Shape(1, 1, 2, 2)), Tensor.Zeros(new Shape(1, 1, 3, 3))));
        Assert.Contains("does not fit", f.Message);
    }

    [Theory]
    [InlineData(1, 16, 20, 24, 3, 1, 1, true)]  // Winograd (20 filters: not blocks of 8 for the direct kernel), split into bands of tile rows (tiles outnumber channels)
    [InlineData(3, 16, 20, 13, 3, 1, 1, true)]  // Winograd bands that start and end inside a sample; odd size leaves partial tiles
    [InlineData(1, 32, 60, 14, 3, 1, 1, true)]  // Winograd, split by output channels (channels outnumber tiles)
    [InlineData(2, 16, 24, 24, 3, 1, 1, true)]  // the direct kernel (with AVX-512) and its epilogue
    [InlineData(3, 8, 16, 21, 3, 2, 1, false)]  // im2col, bands of output rows across samples, stride 2
    [InlineData(1, 64, 72, 8, 1, 1, 1, false)]  // im2col, split by output channels (40 + 32: uneven shares)
    [InlineData(2, 16, 16, 32, 3, 1, 2, false)] // grouped, bands of output rows
    [InlineData(3, 16, 24, 30, 3, 1, 1, true, true)]   // float32: Winograd F(4×4) rows, bands starting inside a sample (30 = 7 tiles + 2), epilogue on each run
    [InlineData(4, 16, 96, 14, 3, 1, 1, false, true)]  // float32: Winograd F(4×4) rows split by output channels (64 tiles, 96 filters)
    public void Convolution_split_between_cores_with_its_epilogue_matches_plain_loops(int n, int c, int m, int size, int k, int stride, int group, bool residual,
        bool f32 = false)
    {
        // The managed kernel pinned so that each core takes its own share of the work (another backend keeps the old split).
        WithManagedGemm(rt =>
        {
            var pad = k / 2;
            var o = (size + 2 * pad - k) / stride + 1;
            var cg = c / group;
            var dtype = f32 ? DType.Float32 : DType.Float64;
            var x = Tensor.Uniform(new Shape(n, c, size, size), _rng, dtype: dtype);
            var wt = Tensor.Uniform(new Shape(m, cg, k, k), _rng, dtype: dtype);
            var (scale, shift) = (Tensor.Uniform(new Shape(m), _rng, dtype: dtype), Tensor.Uniform(new Shape(m), _rng, dtype: dtype));
            var r = Tensor.Uniform(new Shape(n, m, o, o), _rng, dtype: dtype);
            var attrs = OpAttributes.Of(("strides", new[] { stride, stride }), ("pads", new[] { pad, pad, pad, pad }), ("group", group), ("relu", 1L));
            Tensor y;
            using (rt.Activate())
            using (GradMode.NoGrad())
                y = rt.Invoke(Ops.BackpropDomain, "ConvAffine", residual ? [x, wt, scale, shift, r] : [x, wt, scale, shift], attrs)[0];
            Assert.Equal(new Shape(n, m, o, o), y.Shape);
            var (xv, wv, yv, rv) = (x.ToDoubleArray(), wt.ToDoubleArray(), y.ToDoubleArray(), r.ToDoubleArray());
            var (a, b) = (scale.ToDoubleArray(), shift.ToDoubleArray());
            for (var ni = 0; ni < n; ni++)
            for (var mi = 0; mi < m; mi++)
            for (var i = 0; i < o; i++)
            for (var j = 0; j < o; j++)
            {
                double s = 0, magnitude = 0;
                var grp = mi / (m / group);
                for (var ci = 0; ci < cg; ci++)
                for (var p = 0; p < k; p++)
                for (var q = 0; q < k; q++)
                {
                    var term = Tap(xv, c, size, ni, grp * cg + ci, i * stride - pad + p, j * stride - pad + q) * wv[((mi * cg + ci) * k + p) * k + q];
                    (s, magnitude) = (s + term, magnitude + Math.Abs(term));
                }
                var at = ((ni * m + mi) * o + i) * o + j;
                var expected = Math.Max(0, s * a[mi] + b[mi] + (residual ? rv[at] : 0));
                // float32: F(4×4)'s rounding, within 6e-6 of Σ|terms| (see ForwardOracleTests), scaled by the affine map.
                var tolerance = f32 ? 6e-6 * magnitude * Math.Abs(a[mi]) + 1e-6 : 1e-11 * Math.Max(1, Math.Abs(expected));
                Assert.True(Math.Abs(expected - yv[at]) <= tolerance, $"y[{ni},{mi},{i},{j}]: expected {expected}, got {yv[at]}");
            }
        });
    }

    [Theory]
    [InlineData(3, 8, 16, 21, 3, 2, 1)]  // bands of output rows across samples, each core summing into its own copy of dW
    [InlineData(2, 16, 16, 32, 3, 1, 2)] // grouped, bands
    // 72 input channels (not blocks of 32) keep the cases below off the direct kernel (WeightGradientOracleTests).
    [InlineData(1, 72, 72, 8, 1, 1, 1)]  // filters outweigh the input: one shared patch matrix
    [InlineData(2, 72, 72, 13, 3, 1, 1)] // Winograd (odd size: partial tiles at the edge)
    [InlineData(3, 72, 64, 14, 3, 1, 1)] // Winograd F(4×4, 3×3) for the weight gradient from 14 × 14, several samples per chunk
    [InlineData(1, 72, 72, 21, 3, 1, 1)] // F(4×4, 3×3): partial 4×4 tiles at the edge
    [InlineData(2, 72, 64, 24, 3, 1, 1)] // F(4×4, 3×3), two samples
    [InlineData(1, 72, 64, 33, 3, 1, 1, true)] // F(4×4, 3×3) in float32: rows of 9 tiles (through WinogradF4Rows, ahead of the direct kernel)
    [InlineData(2, 64, 64, 30, 3, 1, 1, true)] // float32 rows: partial tiles, the last tile row two output rows deep
    [InlineData(1, 64, 64, 50, 3, 1, 1, true)] // float32 rows of 13 tiles: dY's rows end inside the fourth vector
    [InlineData(8, 64, 64, 64, 3, 1, 1, true)] // float32 rows of 16 tiles: each core's band in two chunks (the second accumulating)
    public void Weight_gradient_split_between_cores_matches_plain_loops(int n, int c, int m, int size, int k, int stride, int group, bool f32 = false)
    {
        WithManagedGemm(rt =>
        {
            var pad = k / 2;
            var o = (size + 2 * pad - k) / stride + 1;
            var cg = c / group;
            var dtype = f32 ? DType.Float32 : DType.Float64;
            var x = Tensor.Uniform(new Shape(n, c, size, size), _rng, dtype: dtype);
            var wt = Tensor.Uniform(new Shape(m, cg, k, k), _rng, dtype: dtype);
            var seed = Tensor.Uniform(new Shape(n, m, o, o), _rng, dtype: dtype);
            wt.RequiresGrad = true;
            var attrs = OpAttributes.Of(("strides", new[] { stride, stride }), ("pads", new[] { pad, pad, pad, pad }), ("group", group));
            using (rt.Activate())
                Ops.ReduceSum(rt.Invoke("", "Conv", [x, wt], attrs)[0] * seed).Backward();
            var (xv, sv, dw) = (x.ToDoubleArray(), seed.ToDoubleArray(), wt.Grad!.ToDoubleArray());
            for (var mi = 0; mi < m; mi++)
            for (var ci = 0; ci < cg; ci++)
            for (var p = 0; p < k; p++)
            for (var q = 0; q < k; q++)
            {
                var (s, magnitude) = (0.0, 0.0);
                var grp = mi / (m / group);
                for (var ni = 0; ni < n; ni++)
                for (var i = 0; i < o; i++)
                for (var j = 0; j < o; j++)
                {
                    var term = Tap(xv, c, size, ni, grp * cg + ci, i * stride - pad + p, j * stride - pad + q) * sv[((ni * m + mi) * o + i) * o + j];
                    (s, magnitude) = (s + term, magnitude + Math.Abs(term));
                }
                // float32: within 6e-6 of Σ|terms| (F(4×4, 3×3)'s rounding; see ForwardOracleTests.Near).
                var actual = dw[((mi * cg + ci) * k + p) * k + q];
                if (f32) Assert.True(Math.Abs(s - actual) <= 6e-6 * magnitude, $"dW[{mi},{ci},{p},{q}]: expected {s}, got {actual} (Σ|terms| {magnitude})");
                else TestEnv.Close(s, actual, 1e-11, $"dW[{mi},{ci},{p},{q}]");
            }
        });
    }

    /// <summary>
    /// Input gradients through the patch matrix (strided, grouped, 1×1): GEMM, then col2im. Float64, against scattering
    /// each output's seed.
    /// </summary>
    [Theory]
    [InlineData(4, 12, 16, 33, 3, 2, 1)] // 3×3 stride 2 (12 channels: not blocks of 8, so not by phases)
    [InlineData(2, 12, 12, 21, 3, 2, 1)] // small
    [InlineData(8, 64, 16, 28, 1, 2, 1)] // 1×1 stride 2 (ResNet's downsampling)
    [InlineData(4, 16, 16, 34, 3, 2, 2)] // grouped
    public void Input_gradient_through_the_patch_matrix_matches_plain_loops(int n, int c, int m, int size, int k, int stride, int group)
    {
        var pad = k / 2;
        var o = (size + 2 * pad - k) / stride + 1;
        var (cg, mg) = (c / group, m / group);
        var x = Tensor.Uniform(new Shape(n, c, size, size), _rng, dtype: DType.Float64);
        var wt = Tensor.Uniform(new Shape(m, cg, k, k), _rng, dtype: DType.Float64);
        var seed = Tensor.Uniform(new Shape(n, m, o, o), _rng, dtype: DType.Float64);
        x.RequiresGrad = true;
        var attrs = OpAttributes.Of(("strides", new[] { stride, stride }), ("pads", new[] { pad, pad, pad, pad }), ("group", group));
        var dx = Autograd.Grad(Ops.Call("Conv", attrs, x, wt), x, seed).ToDoubleArray();
        var (wv, sv) = (wt.ToDoubleArray(), seed.ToDoubleArray());
        var expected = new double[n * c * size * size];
        for (var ni = 0; ni < n; ni++)
        for (var mi = 0; mi < m; mi++)
        for (var i = 0; i < o; i++)
        for (var j = 0; j < o; j++)
        for (var ci = 0; ci < cg; ci++)
        for (var p = 0; p < k; p++)
        for (var q = 0; q < k; q++)
        {
            var (ih, iw) = (i * stride - pad + p, j * stride - pad + q);
            if (ih < 0 || ih >= size || iw < 0 || iw >= size) continue;
            var channel = mi / mg * cg + ci;
            expected[((ni * c + channel) * size + ih) * size + iw] += sv[((ni * m + mi) * o + i) * o + j] * wv[((mi * cg + ci) * k + p) * k + q];
        }
        for (var e = 0; e < expected.Length; e++) TestEnv.Close(expected[e], dx[e], 1e-11, $"dX element {e}");
    }

    /// <summary>
    /// Input gradients of strided convolutions computed phase by phase of dX (PhaseGradInput, with AVX-512): every SH-th
    /// row and SW-th column of dX is a stride-1 convolution of dY with a subset of the taps. Against the sum over outputs,
    /// float64 to 1e-11, float32 within 6e-6 of Σ|terms|.
    /// </summary>
    [Theory]
    [InlineData(2, 16, 24, 24, 24, 3, 3, 2, 2, 1, 1, 1, 1, false)] // ResNet's 3×3 stride-2 layers
    [InlineData(1, 8, 16, 29, 27, 3, 3, 2, 2, 1, 1, 1, 1, true)]   // odd sizes: phases of unequal length, float64
    [InlineData(3, 8, 8, 26, 26, 3, 3, 2, 2, 1, 1, 1, 1, false)]   // three samples split across cores
    [InlineData(1, 8, 8, 38, 30, 4, 3, 3, 2, 2, 0, 1, 2, true)]    // strides 3 × 2, window 4 × 3, uneven pads
    [InlineData(2, 16, 8, 26, 30, 5, 5, 2, 2, 2, 2, 2, 2, false)]  // 5 × 5 window: dY's copy padded before its first row
    [InlineData(1, 8, 8, 22, 22, 2, 2, 2, 2, 0, 0, 0, 0, false)]   // 2 × 2 stride 2: one tap a phase
    [InlineData(2, 8, 8, 24, 19, 3, 3, 2, 1, 1, 1, 1, 1, false)]   // stride 2 × 1: whole rows a phase
    public void Input_gradient_of_strided_convolutions_by_phases_matches_plain_loops(
        int n, int c, int m, int h, int w, int kh, int kw, int sh, int sw, int top, int left, int bottom, int right, bool f64)
    {
        var dtype = f64 ? DType.Float64 : DType.Float32;
        var (oh, ow) = ((h + top + bottom - kh) / sh + 1, (w + left + right - kw) / sw + 1);
        var x = Tensor.Uniform(new Shape(n, c, h, w), _rng, dtype: dtype);
        var wt = Tensor.Uniform(new Shape(m, c, kh, kw), _rng, dtype: dtype);
        var seed = Tensor.Uniform(new Shape(n, m, oh, ow), _rng, dtype: dtype);
        x.RequiresGrad = true;
        var attrs = OpAttributes.Of(("strides", new[] { sh, sw }), ("pads", new[] { top, left, bottom, right }));
        var dx = Autograd.Grad(Ops.Call("Conv", attrs, x, wt), x, seed).ToDoubleArray();
        var (wv, sv) = (wt.ToDoubleArray(), seed.ToDoubleArray());
        var (sum, magnitude) = (new double[dx.Length], new double[dx.Length]);
        for (var ni = 0; ni < n; ni++)
        for (var mi = 0; mi < m; mi++)
        for (var i = 0; i < oh; i++)
        for (var j = 0; j < ow; j++)
        for (var ci = 0; ci < c; ci++)
        for (var p = 0; p < kh; p++)
        for (var q = 0; q < kw; q++)
        {
            var (ih, iw) = (i * sh - top + p, j * sw - left + q);
            if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
            var at = ((ni * c + ci) * h + ih) * w + iw;
            var term = sv[((ni * m + mi) * oh + i) * ow + j] * wv[((mi * c + ci) * kh + p) * kw + q];
            (sum[at], magnitude[at]) = (sum[at] + term, magnitude[at] + Math.Abs(term));
        }
        for (var e = 0; e < dx.Length; e++)
            if (f64) TestEnv.Close(sum[e], dx[e], 1e-11, $"dX element {e}");
            else Assert.True(Math.Abs(sum[e] - dx[e]) <= 6e-6 * magnitude[e] + 1e-7, $"dX element {e}: expected {sum[e]}, got {dx[e]}");
    }

    /// <summary>
    /// Input gradients of 3×3 stride-1 convolutions on small planes, which run as a forward convolution of dY with flipped
    /// filters through the small-plane kernel (FlatConv) or Winograd.
    /// </summary>
    [Theory]
    [InlineData(1, 16, 24, 7, 7, 1, 1, 1, 1, false)]   // ResNet's last stage at batch 1
    [InlineData(2, 8, 16, 6, 9, 0, 1, 2, 1, true)]     // uneven pads, two samples, float64
    [InlineData(1, 32, 8, 14, 14, 1, 1, 1, 1, false)]  // 14 × 14
    [InlineData(8, 16, 16, 7, 7, 1, 1, 1, 1, false)]   // eight samples
    public void Input_gradient_of_small_plane_convolutions_matches_plain_loops(int n, int c, int m, int h, int w, int top, int left, int bottom, int right, bool f64)
    {
        var dtype = f64 ? DType.Float64 : DType.Float32;
        var (oh, ow) = (h + top + bottom - 2, w + left + right - 2);
        var x = Tensor.Uniform(new Shape(n, c, h, w), _rng, dtype: dtype);
        var wt = Tensor.Uniform(new Shape(m, c, 3, 3), _rng, dtype: dtype);
        var seed = Tensor.Uniform(new Shape(n, m, oh, ow), _rng, dtype: dtype);
        x.RequiresGrad = true;
        var attrs = OpAttributes.Of(("strides", new[] { 1, 1 }), ("pads", new[] { top, left, bottom, right }));
        var dx = Autograd.Grad(Ops.Call("Conv", attrs, x, wt), x, seed).ToDoubleArray();
        var (wv, sv) = (wt.ToDoubleArray(), seed.ToDoubleArray());
        for (var ni = 0; ni < n; ni++)
        for (var ci = 0; ci < c; ci++)
        for (var ih = 0; ih < h; ih++)
        for (var iw = 0; iw < w; iw++)
        {
            var (s, magnitude) = (0.0, 0.0);
            for (var mi = 0; mi < m; mi++)
            for (var p = 0; p < 3; p++)
            for (var q = 0; q < 3; q++)
            {
                var (i, j) = (ih + top - p, iw + left - q);
                if (i < 0 || i >= oh || j < 0 || j >= ow) continue;
                var term = sv[((ni * m + mi) * oh + i) * ow + j] * wv[((mi * c + ci) * 3 + p) * 3 + q];
                (s, magnitude) = (s + term, magnitude + Math.Abs(term));
            }
            // float32: within 6e-6 of Σ|terms|, which also holds when BACKPROP_WINOGRAD_TILE=4 forces F(4×4, 3×3) here
            // (see ForwardOracleTests.Near); float64 to 1e-11.
            var actual = dx[((ni * c + ci) * h + ih) * w + iw];
            if (f64) TestEnv.Close(s, actual, 1e-11, $"dX[{ni},{ci},{ih},{iw}]");
            else Assert.True(Math.Abs(s - actual) <= 6e-6 * magnitude + 1e-7, $"dX[{ni},{ci},{ih},{iw}]: expected {s}, got {actual} (Σ|terms| {magnitude})");
        }
    }

    /// <summary>x[n, channel, ih, iw] of a square [·, c, size, size] input, 0 in the padding.</summary>
    [Theory]
    // (the first two wide enough — over 4,096 outputs a plane — that the small-plane kernel leaves them to this one)
    [InlineData(2, 3, 16, 37, 451, 7, 7, 2, 2, 3, 3, 3, 3, true, true)]     // the ResNet stem's window, odd sizes, 2-column tail
    [InlineData(1, 2, 8, 20, 242, 5, 5, 1, 1, 2, 1, 0, 3, false, false)]    // stride 1, uneven pads, 18-column tail
    [InlineData(1, 4, 24, 9, 70, 3, 3, 3, 2, 1, 0, 1, 1, true, false)]      // strides 3 × 2
    [InlineData(2, 3, 8, 1, 100, 1, 9, 1, 2, 0, 4, 0, 4, false, true)]      // 1-D, window 9
    // Small output planes (FlatConv: computed on the padded, phase-split width, the extra columns dropped):
    [InlineData(1, 32, 16, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, true, false)]      // ResNet's last stage, residual and ReLU
    [InlineData(2, 16, 8, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, false, false)]    // 14 × 14, two samples
    [InlineData(3, 20, 24, 5, 9, 3, 2, 1, 1, 0, 1, 2, 0, true, true)]       // 3 × 2 window, uneven pads, float64
    [InlineData(1, 9, 8, 6, 6, 5, 5, 1, 1, 2, 2, 2, 2, true, false)]        // 5 × 5 window
    [InlineData(1, 16, 16, 14, 14, 3, 3, 2, 2, 1, 1, 1, 1, true, false)]    // stride 2 into 7 × 7
    [InlineData(2, 8, 8, 14, 14, 2, 2, 2, 2, 0, 0, 0, 0, false, false)]     // 2 × 2 stride-2 patches
    [InlineData(1, 6, 16, 11, 13, 3, 3, 2, 1, 1, 0, 1, 2, true, true)]      // strides 2 × 1, uneven pads, float64
    [InlineData(1, 4, 8, 10, 10, 3, 3, 3, 3, 1, 1, 1, 1, false, true)]      // stride 3
    public void Direct_convolutions_match_plain_loops(int n, int c, int m, int h, int w, int kh, int kw, int sh, int sw,
        int top, int left, int bottom, int right, bool affine, bool f64)
    {
        var rt = TestEnv.Runtime;
        var dtype = f64 ? DType.Float64 : DType.Float32;
        var oneD = h == 1 && kh == 1;
        var (oh, ow) = ((h + top + bottom - kh) / sh + 1, (w + left + right - kw) / sw + 1);
        var x = Tensor.Uniform(oneD ? new Shape(n, c, w) : new Shape(n, c, h, w), _rng, dtype: dtype);
        var wt = Tensor.Uniform(oneD ? new Shape(m, c, kw) : new Shape(m, c, kh, kw), _rng, dtype: dtype);
        var (scale, shift) = (Tensor.Uniform(new Shape(m), _rng, dtype: dtype), Tensor.Uniform(new Shape(m), _rng, dtype: dtype));
        var outShape = oneD ? new Shape(n, m, ow) : new Shape(n, m, oh, ow);
        var r = Tensor.Uniform(outShape, _rng, dtype: dtype);
        var attrs = oneD
            ? OpAttributes.Of(("strides", new[] { sw }), ("pads", new[] { left, right }), ("relu", 1L))
            : OpAttributes.Of(("strides", new[] { sh, sw }), ("pads", new[] { top, left, bottom, right }), ("relu", 1L));
        Tensor y;
        using (rt.Activate())
        using (GradMode.NoGrad())
            y = affine ? rt.Invoke(Ops.BackpropDomain, "ConvAffine", [x, wt, scale, shift, r], attrs)[0] : Ops.Call("Conv", attrs.Without("relu"), x, wt);
        Assert.Equal(outShape, y.Shape);
        var (xv, wv, yv, rv) = (x.ToDoubleArray(), wt.ToDoubleArray(), y.ToDoubleArray(), r.ToDoubleArray());
        var (a, b) = (scale.ToDoubleArray(), shift.ToDoubleArray());
        for (var ni = 0; ni < n; ni++)
        for (var mi = 0; mi < m; mi++)
        for (var i = 0; i < oh; i++)
        for (var j = 0; j < ow; j++)
        {
            var sum = 0.0;
            for (var ci = 0; ci < c; ci++)
            for (var p = 0; p < kh; p++)
            for (var q = 0; q < kw; q++)
            {
                var (ih, iw) = (i * sh - top + p, j * sw - left + q);
                if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                sum += xv[((ni * c + ci) * h + ih) * w + iw] * wv[((mi * c + ci) * kh + p) * kw + q];
            }
            var at = ((ni * m + mi) * oh + i) * ow + j;
            var expected = affine ? Math.Max(0, sum * a[mi] + b[mi] + rv[at]) : sum;
            TestEnv.Close(expected, yv[at], f64 ? 1e-11 : 2e-5, $"y[{ni},{mi},{i},{j}]");
        }
    }

    private static double Tap(double[] x, int c, int size, int n, int channel, int ih, int iw) =>
        ih < 0 || ih >= size || iw < 0 || iw >= size ? 0 : x[((n * c + channel) * size + ih) * size + iw];

    /// <summary>Runs <paramref name="test"/> on a runtime whose GEMM router is pinned to the managed kernel.</summary>
    private static void WithManagedGemm(Action<BackpropRuntime> test)
    {
        var previous = Environment.GetEnvironmentVariable("BACKPROP_GEMM");
        Environment.SetEnvironmentVariable("BACKPROP_GEMM", "managed");
        try
        {
            test(BackpropRuntime.Create(new RuntimeOptions()));
        }
        finally
        {
            Environment.SetEnvironmentVariable("BACKPROP_GEMM", previous);
        }
    }
}
