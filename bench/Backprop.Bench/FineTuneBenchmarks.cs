using System.Reflection;
using BenchmarkDotNet.Attributes;
using Backprop.Data;
using Backprop.Onnx;
using Backprop.Runtime;
using Backprop.Training;

namespace Backprop.Bench;

/// <summary>
/// One fine-tuning step of ResNet18 imported from ONNX (NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18) with a new 4-class
/// head: batch 8 of 224² images, every layer trainable, BatchNorm in training mode (batch statistics, running-stat
/// updates), cross-entropy, backward, SGD with momentum. The TorchSharp project runs torchvision's resnet18 the same way.
/// Images/s = 8 / mean step time.
/// </summary>
public class FineTuneBenchmarks
{
    private TrainableModel _model = null!;
    private Sgd _sgd = null!;
    private readonly BufferPool _pool = new(); // each step in a TensorScope, as FineTuner runs it
    private Tensor _x = null!, _y = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ = BackpropRuntime.Default;
        var package = typeof(FineTuneBenchmarks).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ResNet18Package").Value!;
        var onnx = OnnxModel.Load(Path.Combine(package, "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx"));
        _model = new TrainableModel(onnx);
        (_x, _y) = new SyntheticShapes(8).Batch([0, 1, 2, 3, 4, 5, 6, 7]);
        _model.AddHead(4, new Dictionary<string, Tensor> { [onnx.Inputs[0].Name] = _x }, new TrainingRandom(1));
        _model.Training = true;
        _sgd = new Sgd(_model.Parameters, 1e-4, momentum: 0.9);
        SteadyState.WarmUp(() => ResNet18FineTuneStep());
    }

    [Benchmark]
    public double ResNet18FineTuneStep()
    {
        using var scope = _pool.Scope();
        _sgd.ZeroGrad();
        var loss = Losses.CrossEntropy(_model.Forward(_x), _y);
        loss.Backward();
        _sgd.Step();
        return loss.Item();
    }
}
