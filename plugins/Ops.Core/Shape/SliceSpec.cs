namespace Backprop.Plugins.Core;

/// <summary>A resolved slice (ONNX semantics: negative indices, clamping, negative steps) as offset, strides and shape.</summary>
internal sealed record SliceSpec(int Offset, int[] Strides, Shape Shape)
{
    public static SliceSpec Of(OpAttributes a, Shape input)
    {
        var starts = a.GetLongs("starts");
        var ends = a.GetLongs("ends");
        var axes = a.GetInts("axes", Enumerable.Range(0, starts.Length).ToArray());
        var steps = a.GetLongs("steps", Enumerable.Repeat(1L, starts.Length).ToArray());
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
            throw new AttributeException($"Slice: starts, ends, axes and steps must have the same length ({starts.Length}, {ends.Length}, {axes.Length}, {steps.Length}).");
        var inStrides = input.Strides();
        var dims = input.ToArray();
        var strides = (int[])inStrides.Clone();
        var offset = 0;
        var seen = new HashSet<int>();
        for (var i = 0; i < starts.Length; i++)
        {
            var axis = Shape.NormalizeAxis(axes[i], input.Rank);
            if (!seen.Add(axis)) throw new AttributeException($"Slice: axis {axis} appears twice.");
            var n = (long)input.Dims[axis];
            var step = steps[i];
            if (step == 0) throw new AttributeException("Slice: a step of 0 is not allowed.");
            long start = starts[i] < 0 ? starts[i] + n : starts[i];
            long end = ends[i] < 0 ? ends[i] + n : ends[i];
            int count;
            if (step > 0)
            {
                start = Math.Clamp(start, 0, n);
                end = Math.Clamp(end, 0, n);
                count = (int)Math.Max(0, (end - start + step - 1) / step);
            }
            else
            {
                start = Math.Clamp(start, -1, n - 1);
                end = Math.Clamp(end, -1, n - 1);
                count = (int)Math.Max(0, (start - end + (-step) - 1) / -step);
            }
            dims[axis] = count;
            if (count > 0) offset += (int)start * inStrides[axis];
            strides[axis] = (int)(inStrides[axis] * step);
        }
        return new SliceSpec(offset, strides, new Shape(dims));
    }
}
