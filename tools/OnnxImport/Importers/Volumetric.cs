namespace Backprop.Onnx.Importers;

/// <summary>
/// 3-D Conv, ConvTranspose, MaxPool and AveragePool over [N, C, D, H, W], composed from the 2-D ops: output depth slice od combines the 2-D
/// op of the input slices id = od·S − P + k·dilation inside the input, one per depth tap k — a sum of 2-D convolutions
/// with the filters' depth slice k, a maximum of 2-D poolings, or their sum over the depth taps counted (a window's count
/// is the product of its depth and planar counts). Built from differentiable ops, so every mode of differentiation
/// follows; one 2-D call per (output slice, depth tap), correct rather than fast.
/// </summary>
internal static class Volumetric
{
    /// <summary>The depth axis of 3-D window attributes, and the 2-D attributes of the other two axes.</summary>
    private readonly record struct Depth(int Kernel, int Stride, int Dilation, int Before, int After, OpAttributes Planar);

    private static Depth Split(OpAttributes a, int kernel, bool conv)
    {
        var (strides, dilations, pads) = (a.GetInts("strides"), a.GetInts("dilations"), a.GetInts("pads"));
        var planar = OpAttributes.Of(("strides", strides[1..]), ("dilations", dilations[1..]), ("pads", new[] { pads[1], pads[2], pads[4], pads[5] }));
        if (conv) planar = planar.With("group", a.GetLong("group", 1));
        else planar = planar.With("kernel_shape", a.GetInts("kernel_shape")[1..]).With("ceil_mode", a.GetLong("ceil_mode", 0))
            .With("count_include_pad", a.GetLong("count_include_pad", 0));
        return new Depth(kernel, strides[0], dilations[0], pads[0], pads[3], planar);
    }

    /// <summary>Output depth (ceil_mode as in the 2-D ops: a last window starting past the input and its leading pad is dropped).</summary>
    private static int OutputDepth(int size, Depth d, bool ceil, NodeContext ctx)
    {
        var span = (long)size + d.Before + d.After - (long)d.Dilation * (d.Kernel - 1) - 1;
        if (span < 0) throw ctx.Error($"the window's depth {d.Kernel} (dilation {d.Dilation}) does not fit depth {size} with pads {d.Before}, {d.After}.");
        var o = (ceil ? (span + d.Stride - 1) / d.Stride : span / d.Stride) + 1;
        if (ceil && (o - 1) * d.Stride >= size + d.Before) o--;
        return (int)o;
    }

    /// <summary>Depth slice i of a [N, C, D, H, W] tensor as [N, C, H, W], each made once.</summary>
    private static Func<int, Tensor> Slices(Tensor x)
    {
        var made = new Tensor?[x.Shape[2]];
        return i => made[i] ??= Ops.Squeeze(Ops.Slice(x, [i], [i + 1], [2]), 2);
    }

    /// <summary>Runs <paramref name="combine"/> over the valid input slices of each output slice and stacks the results on axis 2.</summary>
    private static Tensor Stack(Tensor x, Depth d, int depth, Func<int, List<int>, Tensor> combine)
    {
        var outputs = new Tensor[depth];
        for (var od = 0; od < depth; od++)
        {
            var taps = new List<int>();
            for (var k = 0; k < d.Kernel; k++)
                if (InputSlice(d, od, k) is var id && id >= 0 && id < x.Shape[2]) taps.Add(k);
            outputs[od] = Ops.Unsqueeze(combine(od, taps), 2);
        }
        return Ops.Concat(2, outputs);
    }

    private static int InputSlice(Depth d, int od, int k) => od * d.Stride - d.Before + k * d.Dilation;

    /// <summary>
    /// The sum of <paramref name="terms"/>, or — when no input slice reaches the output slice — zeros of the planar
    /// output's shape, made from one planar call (<paramref name="probe"/>) so the result stays in the graph.
    /// </summary>
    private static Tensor Sum(IEnumerable<Tensor> terms, Func<Tensor> probe)
    {
        Tensor? sum = null;
        foreach (var term in terms) sum = sum is null ? term : sum + term;
        if (sum is not null) return sum;
        var any = probe();
        return Ops.ScalarLike(any, 0) * any;
    }

    public static Tensor Conv(Tensor x, Tensor w, Tensor? bias, OpAttributes attributes, NodeContext ctx)
    {
        var d = Split(attributes, w.Shape[2], conv: true);
        var (xs, ws) = (Slices(x), Slices(w));
        var y = Stack(x, d, OutputDepth(x.Shape[2], d, false, ctx), (od, taps) =>
            Sum(taps.Select(k => Ops.Call("Conv", d.Planar, xs(InputSlice(d, od, k)), ws(k))), () => Ops.Call("Conv", d.Planar, xs(0), ws(0))));
        return bias is null ? y : y + Ops.Reshape(bias, 1, bias.Size, 1, 1, 1);
    }

    /// <summary>
    /// 3-D ConvTranspose: output slice od sums the 2-D transposed convolutions of input slice id with the filters' depth
    /// slice k over every pair with id·S − P + k·dilation = od (attributes as the importer gives them, absent ones default).
    /// </summary>
    public static Tensor ConvTranspose(Tensor x, Tensor w, Tensor? bias, OpAttributes a, NodeContext ctx)
    {
        int[] Get(string name, int count, int fill) => a.Has(name) ? a.GetInts(name) : Enumerable.Repeat(fill, count).ToArray();
        var (strides, dilations, extra, pads) = (Get("strides", 3, 1), Get("dilations", 3, 1), Get("output_padding", 3, 0), Get("pads", 6, 0));
        var planar = OpAttributes.Of(("strides", strides[1..]), ("dilations", dilations[1..]), ("output_padding", extra[1..]),
            ("pads", new[] { pads[1], pads[2], pads[4], pads[5] }), ("group", a.GetLong("group", 1)));
        var (depth, kernel) = (x.Shape[2], w.Shape[2]);
        var outDepth = (long)strides[0] * (depth - 1) + extra[0] + (long)dilations[0] * (kernel - 1) + 1 - pads[0] - pads[3];
        if (outDepth < 1 || outDepth > int.MaxValue) throw ctx.Error($"the output depth would be {outDepth} (input depth {depth}, kernel {kernel}, pads {pads[0]}, {pads[3]}).");
        var (xs, ws) = (Slices(x), Slices(w));
        var outputs = new Tensor[outDepth];
        for (var od = 0; od < outDepth; od++)
        {
            var at = od;
            var pairs = from id in Enumerable.Range(0, depth)
                        from k in Enumerable.Range(0, kernel)
                        where id * strides[0] - pads[0] + k * dilations[0] == at
                        select Ops.Call("ConvTranspose", planar, xs(id), ws(k));
            outputs[od] = Ops.Unsqueeze(Sum(pairs, () => Ops.Call("ConvTranspose", planar, xs(0), ws(0))), 2);
        }
        var y = Ops.Concat(2, outputs);
        return bias is null ? y : y + Ops.Reshape(bias, 1, bias.Size, 1, 1, 1);
    }

    public static Tensor MaxPool(Tensor x, OpAttributes attributes, NodeContext ctx)
    {
        var d = Split(attributes, attributes.GetInts("kernel_shape")[0], conv: false);
        var xs = Slices(x);
        return Stack(x, d, OutputDepth(x.Shape[2], d, attributes.GetLong("ceil_mode", 0) != 0, ctx), (od, taps) =>
        {
            if (taps.Count == 0) throw ctx.Error($"output depth {od} has a window entirely in the padding.");
            Tensor? max = null;
            foreach (var k in taps)
            {
                var pooled = TensorRuntime.Current.Invoke(Ops.BackpropDomain, "MaxPoolValues", [xs(InputSlice(d, od, k))], d.Planar)[0];
                max = max is null ? pooled : Ops.Maximum(max, pooled);
            }
            return max!;
        });
    }

    public static Tensor AveragePool(Tensor x, OpAttributes attributes, NodeContext ctx)
    {
        var d = Split(attributes, attributes.GetInts("kernel_shape")[0], conv: false);
        var includePad = attributes.GetLong("count_include_pad", 0) != 0;
        var xs = Slices(x);
        return Stack(x, d, OutputDepth(x.Shape[2], d, attributes.GetLong("ceil_mode", 0) != 0, ctx), (od, taps) =>
        {
            // Each planar average already divides by its planar count; the depth count divides the sum of the slices.
            var counted = includePad
                ? Enumerable.Range(0, d.Kernel).Count(k => InputSlice(d, od, k) is var id && id >= -d.Before && id < x.Shape[2] + d.After)
                : taps.Count;
            var sum = Sum(taps.Select(k => Ops.Call("AveragePool", d.Planar, xs(InputSlice(d, od, k)))), () => Ops.Call("AveragePool", d.Planar, xs(0)));
            return taps.Count == 0 ? sum : sum / Ops.ScalarLike(sum, counted);
        });
    }
}
