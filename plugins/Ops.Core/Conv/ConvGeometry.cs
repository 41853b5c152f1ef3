namespace Backprop.Plugins.Core;

/// <summary>
/// Shapes of a 1-D or 2-D convolution or pooling window (ONNX attributes strides, pads = [begins…, ends…],
/// dilations, group). 1-D problems are handled as 2-D with height 1.
/// </summary>
internal sealed record ConvGeometry(
    int N, int C, int H, int W, int M, int KH, int KW, int OH, int OW,
    int SH, int SW, int PH, int PW, int DH, int DW, int Group, int SpatialRank, int PHEnd = 0, int PWEnd = 0)
{
    public int Cg => C / Group;
    public int Mg => M / Group;
    public int P => OH * OW;
    public int Kc => Cg * KH * KW;

    public Shape InputShape => SpatialRank == 1 ? new Shape(N, C, W) : new Shape(N, C, H, W);
    public Shape OutputShape => SpatialRank == 1 ? new Shape(N, M, OW) : new Shape(N, M, OH, OW);
    public Shape WeightShape => SpatialRank == 1 ? new Shape(M, Cg, KW) : new Shape(M, Cg, KH, KW);

    /// <summary>Geometry from the input shape, the kernel's spatial shape and output channels.</summary>
    public static ConvGeometry Of(string op, Shape x, int outChannels, int[] kernel, OpAttributes a, int group = 1)
    {
        var rank = x.Rank - 2;
        if (rank is not (1 or 2)) throw new ShapeException($"{op}: input must be [N, C, W] or [N, C, H, W], got {x}.");
        if (kernel.Length != rank) throw new ShapeException($"{op}: kernel has {kernel.Length} spatial dims for a {rank}-D input {x}.");
        int[] Ints(string name, int fill, int count) => a.Has(name) ? a.GetInts(name) : Enumerable.Repeat(fill, count).ToArray();
        var strides = Ints("strides", 1, rank);
        var dilations = Ints("dilations", 1, rank);
        var pads = Ints("pads", 0, 2 * rank);
        if (strides.Length != rank || dilations.Length != rank || pads.Length != 2 * rank)
            throw new AttributeException($"{op}: strides, dilations and pads must have {rank}, {rank} and {2 * rank} entries.");
        if (a.Has("auto_pad") && a.GetString("auto_pad") is not ("NOTSET" or "VALID"))
            throw new AttributeException($"{op}: auto_pad '{a.GetString("auto_pad")}' is not supported; give explicit pads.");
        if (strides.Any(s => s < 1) || dilations.Any(d => d < 1) || pads.Any(p => p < 0) || kernel.Any(k => k < 1))
            throw new AttributeException($"{op}: kernel sizes, strides and dilations must be ≥ 1 and pads ≥ 0.");
        var c = x.Dims[1];
        if (group < 1 || c % group != 0 || outChannels % group != 0)
            throw new ShapeException($"{op}: group {group} must divide input channels {c} and output channels {outChannels}.");
        var (h, w) = rank == 1 ? (1, x.Dims[2]) : (x.Dims[2], x.Dims[3]);
        var (kh, kw) = rank == 1 ? (1, kernel[0]) : (kernel[0], kernel[1]);
        var (sh, sw) = rank == 1 ? (1, strides[0]) : (strides[0], strides[1]);
        var (dh, dw) = rank == 1 ? (1, dilations[0]) : (dilations[0], dilations[1]);
        var (ph, pw) = rank == 1 ? (0, pads[0]) : (pads[0], pads[1]);
        var (ph2, pw2) = rank == 1 ? (0, pads[1]) : (pads[2], pads[3]);
        // ceil_mode (pooling) rounds the output size up; a last window that would start past the input and its
        // leading pad is dropped (the PyTorch and ONNX Runtime rule).
        var ceil = a.GetLong("ceil_mode", 0) != 0;
        int Out(int size, int pb, int pe, int d, int k, int s)
        {
            // in long: a hostile kernel or dilation must not overflow into a plausible size
            var span = (long)size + pb + pe - (long)d * (k - 1) - 1;
            if (span < 0) return 0;
            var o = (ceil ? (span + s - 1) / s : span / s) + 1;
            if (ceil && (o - 1) * s >= (long)size + pb) o--;
            return (int)Math.Min(o, int.MaxValue);
        }
        var oh = Out(h, ph, ph2, dh, kh, sh);
        var ow = Out(w, pw, pw2, dw, kw, sw);
        if ((long)x.Dims[0] * Math.Max(c, outChannels) * oh * ow > int.MaxValue || (long)c / group * kh * kw > int.MaxValue / Math.Max(1, oh * (long)ow))
            throw new ShapeException($"{op}: input {x} with window {string.Join("x", kernel)} and pads [{string.Join(", ", pads)}] gives an output of {oh}x{ow} per channel, too large.");
        if (oh < 1 || ow < 1) throw new ShapeException($"{op}: the window ({string.Join("x", kernel)}, dilation {string.Join(",", dilations)}) does not fit input {x} with pads [{string.Join(", ", pads)}].");
        return new ConvGeometry(x.Dims[0], c, h, w, outChannels, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw, group, rank, ph2, pw2);
    }
}
