namespace Backprop.Runtime;

/// <summary>Validation of what op rules return, with errors that name the op.</summary>
internal static class Check
{
    public static void RuleOutputs(IDifferentiableOp op, string rule, Tensor?[] result, IReadOnlyList<Tensor> expected)
    {
        if (result.Length != expected.Count)
            throw new AutogradException($"{op.Schema.QualifiedName}.{rule} returned {result.Length} tensors for {expected.Count} slots.");
        for (var i = 0; i < result.Length; i++)
        {
            if (result[i] is not { } r) continue;
            var e = expected[i];
            if (r.Shape != e.Shape)
                throw new AutogradException($"{op.Schema.QualifiedName}.{rule} returned shape {r.Shape} for slot {i}, which has shape {e.Shape}.");
            if (r.DType != e.DType && e.DType.IsFloatingPoint())
                throw new AutogradException($"{op.Schema.QualifiedName}.{rule} returned dtype {r.DType} for slot {i}, which has dtype {e.DType}.");
        }
    }

    public static int FirstNonFinite(Tensor t)
    {
        switch (t.DType)
        {
            case DType.Float32:
            {
                var s = t.Span<float>();
                for (var i = 0; i < s.Length; i++) if (!float.IsFinite(s[i])) return i;
                return -1;
            }
            case DType.Float64:
            {
                var s = t.Span<double>();
                for (var i = 0; i < s.Length; i++) if (!double.IsFinite(s[i])) return i;
                return -1;
            }
            default:
                return -1;
        }
    }
}
