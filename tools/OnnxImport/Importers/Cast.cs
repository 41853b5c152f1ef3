using Backprop.Runtime;
using Backprop.Onnx.Proto;

namespace Backprop.Onnx.Importers;

/// <summary>
/// ONNX Cast (https://onnx.ai/onnx/operators/onnx__Cast.html); integer targets map to int64. Float16 and bfloat16 targets
/// are held in float32 (the runtime has no 16-bit type) but rounded to the target's precision, so that what follows
/// sees the values ONNX Runtime would (float16 overflows to ±∞); the gradient passes straight through, as a cast's does.
/// </summary>
internal sealed class CastImporter : INodeImporter
{
    public string OpType => "Cast";

    public Tensor?[] Run(NodeContext ctx)
    {
        var to = (TensorProto.Types.DataType)ctx.Int("to");
        var y = Ops.Cast(ctx.Input(0), Helpers.ToDType((long)to, ctx));
        return [to is TensorProto.Types.DataType.Float16 or TensorProto.Types.DataType.Bfloat16 ? Rounded(y, to) : y];
    }

    private static Tensor Rounded(Tensor y, TensorProto.Types.DataType to)
    {
        var values = y.ToFloatArray();
        var rounded = new float[values.Length];
        for (var i = 0; i < values.Length; i++) rounded[i] = to == TensorProto.Types.DataType.Float16 ? (float)(Half)values[i] : ToBfloat16(values[i]);
        if (!y.RequiresGrad || !GradMode.IsEnabled) return new Tensor(rounded, y.Shape);
        // y + (rounded − y) with the step held constant. The step is exact (the two lie within a factor 2 of each other),
        // ∞ where a finite value overflows, and 0 where they are equal (so ±∞ stays ±∞ instead of ∞ − ∞).
        var step = new float[values.Length];
        for (var i = 0; i < values.Length; i++) step[i] = rounded[i] == values[i] ? 0 : rounded[i] - values[i];
        return y + new Tensor(step, y.Shape);
    }

    /// <summary>Rounds to the nearest bfloat16 (ties to even), kept as float32; NaN stays NaN.</summary>
    private static float ToBfloat16(float v)
    {
        if (float.IsNaN(v)) return v;
        var bits = BitConverter.SingleToUInt32Bits(v);
        bits += 0x7FFFu + ((bits >> 16) & 1);
        return BitConverter.UInt32BitsToSingle(bits & 0xFFFF0000u);
    }
}
