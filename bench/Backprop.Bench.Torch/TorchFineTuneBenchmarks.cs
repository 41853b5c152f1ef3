using BenchmarkDotNet.Attributes;
using TorchSharp;
using static TorchSharp.torch;

namespace Backprop.Bench.Torch;

// Backprop.Tensor (the referenced Backprop.Bench brings it) would win the lookup from inside namespace Backprop.
using Tensor = TorchSharp.torch.Tensor;

/// <summary>
/// Backprop's FineTuneBenchmarks in TorchSharp: the imported ResNet18's architecture (<see cref="CntkResNet18"/>) with a
/// 4-class head, batch 8, 224², train mode, SGD momentum, 2 threads.
/// </summary>
public class TorchFineTuneBenchmarks
{
    private nn.Module<Tensor, Tensor> _model = null!;
    private optim.Optimizer _sgd = null!;
    private Tensor _x = null!, _y = null!;

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(2);
        torch.manual_seed(1);
        _model = new CntkResNet18(4);
        // The imported model's 15,908,800 ONNX parameters (running statistics included) are 15,899,204 here: convolutions
        // 15,885,504, BatchNorm scale and shift 11,648, and the 4-class head 2,052 instead of the running statistics.
        var count = _model.parameters().Sum(p => p.numel());
        if (count != 15_899_204) throw new InvalidOperationException($"CntkResNet18 has {count} parameters, expected 15,899,204.");
        _model.train();
        _sgd = optim.SGD(_model.parameters(), 1e-4, momentum: 0.9);
        _x = torch.randn(8, 3, 224, 224);
        _y = torch.arange(8, ScalarType.Int64) % 4;
        SteadyState.WarmUp(() => ResNet18FineTuneStep());
    }

    [Benchmark]
    public double ResNet18FineTuneStep()
    {
        using var scope = torch.NewDisposeScope();
        _sgd.zero_grad();
        var loss = nn.functional.cross_entropy(_model.forward(_x), _y);
        loss.backward();
        _sgd.step();
        return loss.item<float>();
    }
}
