namespace Backprop.Tests;

/// <summary>
/// Convolution weight gradients with every geometry the direct kernel takes (ungrouped, filters in blocks of 8, channels
/// in blocks of 32: strides, uneven pads, dilation, non-square windows, rows that are not whole vectors, several chunks of
/// output rows, filter blocks split unevenly between cores), a 1 × 1 one (the GEMM's) and few-channel ones (the phase
/// kernel's), against the sum over outputs written here in float64.
/// </summary>
public class WeightGradientOracleTests
{
    private readonly Random _rng = new(17);

    public WeightGradientOracleTests() => _ = TestEnv.Runtime;

    [Theory]
    [InlineData(2, 32, 24, 24, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false)] // 1,152 output positions: two chunks; 3 filter blocks on 2 cores
    [InlineData(2, 64, 16, 13, 11, 3, 3, 2, 2, 1, 0, 1, 1, 1, 1, true)]  // stride 2, uneven pads, rows of 11 (blocks of 8 cross rows)
    [InlineData(3, 32, 8, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true)]     // ResNet's last stage: rows of 7, one filter block
    [InlineData(1, 32, 16, 9, 10, 3, 2, 1, 2, 0, 1, 2, 0, 2, 1, false)]  // 3 × 2 window, dilation 2 down, strides 1 × 2
    [InlineData(4, 64, 32, 28, 28, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, true)]  // 1 × 1 stride 2 (ResNet's downsampling), float32: through the GEMM
    [InlineData(2, 32, 16, 28, 28, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true)]  // 3 × 3 stride 2 on 28²: chunks of 16 output rows (input-byte budget), two of them
    [InlineData(2, 3, 8, 32, 32, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, true)]    // a stem (3 channels, 7 × 7 stride 2): the phase kernel, 147 taps (24 blocks of 6 and 3)
    [InlineData(1, 3, 4, 120, 16, 3, 3, 1, 1, 1, 0, 1, 2, 1, 1, false)]  // the phase kernel in float64, uneven pads, three bands of output rows
    [InlineData(2, 32, 16, 1, 40, 1, 5, 1, 1, 0, 2, 0, 2, 1, 1, true)]   // height 1 (a 1-D signal as 2-D), window 1 × 5
    public void Direct_weight_gradient_matches_the_sum_over_outputs(int n, int c, int m, int h, int w, int kh, int kw, int sh, int sw,
        int top, int left, int bottom, int right, int dh, int dw, bool f32)
    {
        var dtype = f32 ? DType.Float32 : DType.Float64;
        var x = Tensor.Uniform(new Shape(n, c, h, w), _rng, dtype: dtype);
        var wt = Tensor.Uniform(new Shape(m, c, kh, kw), _rng, dtype: dtype);
        wt.RequiresGrad = true;
        var attrs = OpAttributes.Of(("strides", new[] { sh, sw }), ("dilations", new[] { dh, dw }), ("pads", new[] { top, left, bottom, right }));
        var y = Ops.Call("Conv", attrs, x, wt);
        var (oh, ow) = ((h + top + bottom - dh * (kh - 1) - 1) / sh + 1, (w + left + right - dw * (kw - 1) - 1) / sw + 1);
        Assert.Equal(new Shape(n, m, oh, ow), y.Shape);
        var seed = Tensor.Uniform(y.Shape, _rng, dtype: dtype);
        Ops.ReduceSum(y * seed).Backward();
        var (xv, sv, gw) = (x.ToDoubleArray(), seed.ToDoubleArray(), wt.Grad!.ToDoubleArray());
        for (var mi = 0; mi < m; mi++)
        for (var ci = 0; ci < c; ci++)
        for (var a = 0; a < kh; a++)
        for (var b = 0; b < kw; b++)
        {
            var (s, magnitude) = (0.0, 0.0);
            for (var ni = 0; ni < n; ni++)
            for (var i = 0; i < oh; i++)
            for (var j = 0; j < ow; j++)
            {
                var (ih, iw) = (i * sh - top + a * dh, j * sw - left + b * dw);
                if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                var term = xv[((ni * c + ci) * h + ih) * w + iw] * sv[((ni * m + mi) * oh + i) * ow + j];
                (s, magnitude) = (s + term, magnitude + Math.Abs(term));
            }
            var actual = gw[((mi * c + ci) * kh + a) * kw + b];
            // float32 sums of up to ~1,000 products: within 1e-5 of Σ|terms|; a wrong tap or position is off by O(Σ|terms|).
            if (f32) Assert.True(Math.Abs(s - actual) <= 1e-5 * magnitude, $"dW[{mi},{ci},{a},{b}]: expected {s}, got {actual} (Σ|terms| {magnitude})");
            else TestEnv.Close(s, actual, 1e-11, $"dW[{mi},{ci},{a},{b}]");
        }
    }
}
