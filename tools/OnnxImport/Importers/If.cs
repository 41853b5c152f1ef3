namespace Backprop.Onnx.Importers;

/// <summary>
/// ONNX If (https://onnx.ai/onnx/operators/onnx__If.html): runs then_branch or else_branch on a one-element bool condition.
/// The branch that runs is recorded like straight-line code, so its gradients (and those of the outer values it reads)
/// flow back through it.
/// </summary>
internal sealed class IfImporter : INodeImporter
{
    public string OpType => "If";

    public Tensor?[] Run(NodeContext ctx)
    {
        var condition = ctx.Input(0);
        if (condition.Size != 1) throw ctx.Error($"the condition must hold one value, not {condition.Shape}.");
        var outputs = ctx.Subgraph(condition.GetAsDouble(0) != 0 ? "then_branch" : "else_branch");
        if (outputs.Length != ctx.Node.Output.Count)
            throw ctx.Error($"the branch produced {outputs.Length} outputs; the node declares {ctx.Node.Output.Count}.");
        return outputs;
    }
}
