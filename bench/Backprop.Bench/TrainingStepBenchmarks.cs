using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using Backprop.Runtime;

namespace Backprop.Bench;

/// <summary>
/// One SGD step (forward, cross-entropy, backward, in-place update) of the MLP 784-512-512-10 at batch 128 and of
/// the small CNN (conv 1→32 3×3, ReLU, max-pool 2, conv 32→64 3×3, ReLU, max-pool 2, linear 1600→128, ReLU,
/// linear 128→10) at batch 64 on 28×28 inputs; float32. The TorchSharp project measures the same networks.
/// </summary>
public class TrainingStepBenchmarks
{
    private readonly Random _rng = new(1);
    private readonly BufferPool _pool = new(); // each step in a TensorScope, as the TorchSharp side runs in a dispose scope
    private Tensor[] _mlp = [];
    private Tensor[] _cnn = [];
    private Tensor _mlpX = null!, _mlpY = null!, _cnnX = null!, _cnnY = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ = BackpropRuntime.Default;
        _mlp = [Param(784, 512), Param(512), Param(512, 512), Param(512), Param(512, 10), Param(10)];
        _cnn = [Param(32, 1, 3, 3), Param(32), Param(64, 32, 3, 3), Param(64), Param(1600, 128), Param(128), Param(128, 10), Param(10)];
        _mlpX = Tensor.Normal(new Shape(128, 784), _rng);
        _mlpY = Tensor.FromArray(Enumerable.Range(0, 128).Select(i => (long)(i % 10)).ToArray());
        _cnnX = Tensor.Normal(new Shape(64, 1, 28, 28), _rng);
        _cnnY = Tensor.FromArray(Enumerable.Range(0, 64).Select(i => (long)(i % 10)).ToArray());
    }

    private Tensor Param(params int[] shape)
    {
        var fanIn = shape.Length > 1 ? shape[1..].Aggregate(1, (a, b) => a * b) : shape[0];
        var p = Tensor.Normal(new Shape(shape), _rng, std: Math.Sqrt(2.0 / fanIn));
        p.RequiresGrad = true;
        return p;
    }

    private static Tensor Linear(Tensor x, Tensor w, Tensor b) => Ops.Gemm(x, w, b);

    private static void Step(Tensor[] parameters, Tensor loss, float lr)
    {
        loss.Backward();
        foreach (var p in parameters)
        {
            TensorPrimitives.MultiplyAdd(p.Grad!.Span<float>(), -lr, p.Span<float>(), p.Span<float>());
            p.ReleaseGrad();
        }
    }

    [Benchmark]
    public double MlpSgdStep()
    {
        using var scope = _pool.Scope();
        var p = _mlp;
        var h = Ops.Relu(Linear(_mlpX, p[0], p[1]));
        h = Ops.Relu(Linear(h, p[2], p[3]));
        var loss = Ops.CrossEntropy(Linear(h, p[4], p[5]), _mlpY);
        Step(p, loss, 0.01f);
        return loss.Item();
    }

    [Benchmark]
    public double CnnSgdStep()
    {
        using var scope = _pool.Scope();
        var p = _cnn;
        var pool = OpAttributes.Of(("kernel_shape", new[] { 2, 2 }), ("strides", new[] { 2, 2 }));
        var h = Ops.Relu(Ops.Call("Conv", OpAttributes.Empty, _cnnX, p[0], p[1]));
        h = Ops.CallMulti("", "MaxPool", pool, h)[0];
        h = Ops.Relu(Ops.Call("Conv", OpAttributes.Empty, h, p[2], p[3]));
        h = Ops.CallMulti("", "MaxPool", pool, h)[0];
        h = Ops.Reshape(h, 64, 1600);
        h = Ops.Relu(Linear(h, p[4], p[5]));
        var loss = Ops.CrossEntropy(Linear(h, p[6], p[7]), _cnnY);
        Step(p, loss, 0.01f);
        return loss.Item();
    }
}
