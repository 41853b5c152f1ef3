namespace Backprop;

public static partial class Ops
{
    /// <summary>Reshapes; 0 copies the input dimension, −1 is inferred (ONNX semantics).</summary>
    public static Tensor Reshape(Tensor x, params int[] shape) =>
        x.Shape.Dims.SequenceEqual(shape) ? x : Call("Reshape", OpAttributes.Of(("shape", shape)), x);

    /// <summary>Permutes dimensions (reverses them when <paramref name="perm"/> is empty).</summary>
    public static Tensor Transpose(Tensor x, params int[] perm) => Call("Transpose", OpAttributes.Of(("perm", perm)), x);

    /// <summary>Broadcasts to <paramref name="shape"/>.</summary>
    public static Tensor Expand(Tensor x, Shape shape) =>
        x.Shape == shape ? x : Call("Expand", OpAttributes.Of(("shape", shape.ToArray())), x);

    /// <summary>Slices along <paramref name="axes"/> (ONNX semantics: clamped, negative indices, steps).</summary>
    public static Tensor Slice(Tensor x, int[] starts, int[] ends, int[]? axes = null, int[]? steps = null)
    {
        axes ??= Enumerable.Range(0, starts.Length).ToArray();
        steps ??= Enumerable.Repeat(1, starts.Length).ToArray();
        return Call("Slice", OpAttributes.Of(("starts", starts), ("ends", ends), ("axes", axes), ("steps", steps)), x);
    }

    /// <summary>Joins tensors along <paramref name="axis"/>.</summary>
    public static Tensor Concat(int axis, params Tensor[] xs) => Call("Concat", OpAttributes.Of(("axis", axis)), xs);

    /// <summary>Splits along <paramref name="axis"/> into pieces of <paramref name="sizes"/>.</summary>
    public static Tensor[] Split(Tensor x, int axis, params int[] sizes) =>
        CallMulti("", "Split", OpAttributes.Of(("axis", axis), ("split", sizes)), x);

    /// <summary>Takes entries of <paramref name="x"/> along <paramref name="axis"/> at int64 <paramref name="indices"/>.</summary>
    public static Tensor Gather(Tensor x, Tensor indices, int axis = 0) => Call("Gather", OpAttributes.Of(("axis", axis)), x, indices);

    /// <summary>Removes size-1 dimensions (all of them when <paramref name="axes"/> is empty).</summary>
    public static Tensor Squeeze(Tensor x, params int[] axes) => Call("Squeeze", OpAttributes.Of(("axes", axes)), x);

    /// <summary>Inserts size-1 dimensions at <paramref name="axes"/> of the output.</summary>
    public static Tensor Unsqueeze(Tensor x, params int[] axes) => Call("Unsqueeze", OpAttributes.Of(("axes", axes)), x);

    /// <summary>Pads with a constant; <paramref name="pads"/> is [begin₀…, end₀…] (ONNX layout).</summary>
    public static Tensor Pad(Tensor x, int[] pads, double value = 0) => Call("Pad", OpAttributes.Of(("pads", pads), ("value", value)), x);

    /// <summary>Sums <paramref name="x"/> down to <paramref name="shape"/>, undoing broadcasting.</summary>
    public static Tensor SumTo(Tensor x, Shape shape)
    {
        if (x.Shape == shape) return x;
        var lead = x.Rank - shape.Rank;
        if (lead < 0) throw new ShapeException($"Cannot sum {x.Shape} down to larger rank {shape}.");
        var axes = new List<int>();
        for (var i = 0; i < x.Rank; i++)
        {
            if (i < lead || (shape.Dims[i - lead] == 1 && x.Shape.Dims[i] != 1)) axes.Add(i);
        }
        var summed = axes.Count == 0 ? x : ReduceSum(x, [.. axes], keepDims: true);
        return Reshape(summed, shape.ToArray());
    }
}
