using BenchmarkDotNet.Attributes;
using TorchSharp;
using static TorchSharp.torch;

namespace Backprop.Bench.Torch;

// Backprop.Tensor (the referenced Backprop.Bench brings it) would win the lookup from inside namespace Backprop.
using Tensor = TorchSharp.torch.Tensor;

/// <summary>The MLP and CNN SGD steps of Backprop's TrainingStepBenchmarks, in TorchSharp, two threads, float32.</summary>
public class TorchTrainingStepBenchmarks
{
    private Tensor[] _mlp = [];
    private Tensor[] _cnn = [];
    private Tensor _mlpX = null!, _mlpY = null!, _cnnX = null!, _cnnY = null!;

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(2);
        torch.manual_seed(1);
        Tensor P(params long[] shape) => (torch.randn(shape) * 0.05).requires_grad_(true);
        // Linear weights stored [in, out] as in Backprop's Gemm(x, w, b).
        _mlp = [P(784, 512), P(512), P(512, 512), P(512), P(512, 10), P(10)];
        _cnn = [P(32, 1, 3, 3), P(32), P(64, 32, 3, 3), P(64), P(1600, 128), P(128), P(128, 10), P(10)];
        _mlpX = torch.randn(128, 784);
        _mlpY = torch.arange(128, ScalarType.Int64) % 10;
        _cnnX = torch.randn(64, 1, 28, 28);
        _cnnY = torch.arange(64, ScalarType.Int64) % 10;
    }

    private static Tensor Linear(Tensor x, Tensor w, Tensor b) => torch.addmm(b, x, w, 1, 1);

    private static void Step(Tensor[] parameters, Tensor loss)
    {
        loss.backward();
        using (torch.no_grad())
        {
            foreach (var p in parameters)
            {
                p.sub_(p.grad! * 0.01);
                p.grad!.zero_();
            }
        }
    }

    [Benchmark]
    public double MlpSgdStep()
    {
        using var scope = torch.NewDisposeScope();
        var p = _mlp;
        var h = nn.functional.relu(Linear(_mlpX, p[0], p[1]));
        h = nn.functional.relu(Linear(h, p[2], p[3]));
        var loss = nn.functional.cross_entropy(Linear(h, p[4], p[5]), _mlpY);
        Step(p, loss);
        return loss.item<float>();
    }

    [Benchmark]
    public double CnnSgdStep()
    {
        using var scope = torch.NewDisposeScope();
        var p = _cnn;
        var h = nn.functional.relu(nn.functional.conv2d(_cnnX, p[0], p[1]));
        h = nn.functional.max_pool2d(h, 2, 2);
        h = nn.functional.relu(nn.functional.conv2d(h, p[2], p[3]));
        h = nn.functional.max_pool2d(h, 2, 2);
        h = h.reshape(64, 1600);
        h = nn.functional.relu(Linear(h, p[4], p[5]));
        var loss = nn.functional.cross_entropy(Linear(h, p[6], p[7]), _cnnY);
        Step(p, loss);
        return loss.item<float>();
    }
}
