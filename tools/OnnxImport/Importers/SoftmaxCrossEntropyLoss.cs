namespace Backprop.Onnx.Importers;

/// <summary>
/// ONNX SoftmaxCrossEntropyLoss (https://onnx.ai/onnx/operators/onnx__SoftmaxCrossEntropyLoss.html), opset 12+:
/// NegativeLogLikelihoodLoss of log-softmax over axis 1; the optional second output is that log-probability tensor.
/// </summary>
internal sealed class SoftmaxCrossEntropyLossImporter : INodeImporter
{
    public string OpType => "SoftmaxCrossEntropyLoss";

    public int SinceVersion => 12;

    public Tensor?[] Run(NodeContext ctx)
    {
        var logp = Ops.LogSoftmax(ctx.Input(0), 1);
        return [ClassLoss.Nll(ctx, logp, ctx.Input(1), ctx.Optional(2)), logp];
    }
}
