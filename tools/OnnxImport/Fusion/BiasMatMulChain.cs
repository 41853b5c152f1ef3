using Backprop.Onnx.Importers;

namespace Backprop.Onnx;

/// <summary>
/// MatMul(X, W) → Add(·, b) with a 2-D weight and a 1-D bias — every linear layer of an exported transformer — run as one
/// Gemm over X's rows, whose fused kernel writes the bias into the output and accumulates the product onto it (no
/// separate pass for the add). Declines other shapes and mixed dtypes.
/// </summary>
internal sealed class BiasMatMulChain : FusedChain
{
    private BiasMatMulChain(int[] steps) : base(steps) { }

    public static IEnumerable<FusedChain> Find(Wiring w)
    {
        for (var mm = 0; mm < w.Steps.Count; mm++)
        {
            if (w.Steps[mm].Importer is not MatMulImporter) continue;
            var add = w.Next<AddImporter>(mm);
            if (add >= 0 && w.Steps[add].Node.Input.Count == 2) yield return new BiasMatMulChain([mm, add]);
        }
    }

    public override bool TryRun(IReadOnlyList<PlanStep> steps, Dictionary<string, Tensor> env, Func<int, NodeContext> context)
    {
        var (x, weight) = (Read(steps, env, Steps[0], 0), Read(steps, env, Steps[0], 1));
        var add = steps[Steps[1]].Node;
        var bias = Other(steps, env, Steps[1], steps[Steps[0]].Node.Output[0]);
        if (x is null || weight is null || bias is null || !x.DType.IsFloatingPoint() || weight.DType != x.DType || bias.DType != x.DType) return false;
        if (x.Rank < 2 || weight.Rank != 2 || bias.Rank != 1 || x.Shape[^1] != weight.Shape[0] || bias.Size != weight.Shape[1] || x.Size == 0 || weight.Size == 0) return false;
        var rows = x.Size / x.Shape[^1];
        var y = Ops.Call("Gemm", OpAttributes.Empty, x.Rank == 2 ? x : Ops.Reshape(x, rows, x.Shape[^1]), weight, bias);
        env[add.Output[0]] = x.Rank == 2 ? y : Ops.Reshape(y, [.. x.Shape.ToArray()[..^1], weight.Shape[1]]);
        return true;
    }
}
