[assembly: Backprop.BackpropPlugin(typeof(Backprop.Plugins.Core.CoreModule))]

namespace Backprop.Plugins.Core;

/// <summary>Registers Backprop's standard ops and the managed kernels.</summary>
public sealed class CoreModule : IOpModule
{
    /// <inheritdoc />
    public void Register(IOpRegistry registry)
    {
        IDifferentiableOp[] ops =
        [
            new Add(), new Sub(), new Mul(), new Div(), new Pow(), new Max(), new Min(),
            new Neg(), new Exp(), new Log(), new Sqrt(), new Reciprocal(), new Abs(), new Sin(), new Cos(),
            new Tanh(), new Sigmoid(), new Relu(), new LeakyRelu(), new Elu(), new Softplus(), new Gelu(), new Erf(),
            new Sign(), new Greater(), new Less(), new Equal(), new Where(), new Clip(), new Cast(),
            new ReduceSum(), new ReduceMean(), new ReduceMax(), new ReduceMin(), new ReduceProd(),
            new Reshape(), new Transpose(), new Expand(), new Slice(), new Concat(), new Split(), new Gather(),
            new Squeeze(), new Unsqueeze(), new Pad(),
            new MatMul(), new Gemm(), new Softmax(), new LogSoftmax(),
            new MseLoss(), new NllLoss(), new CrossEntropyLoss(),
            new Conv(), new ConvTranspose(), new MaxPool(), new AveragePool(), new GlobalAveragePool(),
            IndexGather.Instance, IndexScatter.Instance, new ChannelAffine(), ChannelGradSums.Instance, ChannelMix.Instance, new BatchNormTraining(), new BatchNormAddRelu(), new ChannelMoments(), ConvAffine.Instance, new LayerNorm(), new MaxPoolValues(),
        ];
        foreach (var op in ops) registry.AddOp(op);
        registry.AddKernel<IGemm>(new PackedGemm());
        registry.AddKernel<IGemmRouter>(new GemmRouter());
    }
}
