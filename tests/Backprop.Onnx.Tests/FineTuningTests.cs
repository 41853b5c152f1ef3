using Backprop.Data;
using Backprop.Runtime;
using Backprop.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Backprop.Onnx.Tests;

/// <summary>
/// Fine-tuning against PyTorch (tests/fixtures/generate_training.py, float64 references): optimizer trajectories and
/// BatchNorm in training mode; plus resume, freezing and export under ONNX Runtime.
/// </summary>
public class FineTuningTests
{
    private static string Fixture(string name) => Path.Combine(TestData.RepoRoot, "tests", "fixtures", "training", name);

    private static readonly Dictionary<string, Tensor> Optim = Npy.LoadArchive(Fixture("optim.npz"));

    private static void AssertClose(Tensor expected, Tensor actual, double relative, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        var (e, a) = (expected.ToDoubleArray(), actual.ToDoubleArray());
        var scale = Math.Max(1e-3, e.Max(Math.Abs));
        for (var i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= relative * Math.Max(Math.Abs(e[i]), scale), $"{what}[{i}]: {a[i]} vs PyTorch {e[i]}");
    }

    public static TheoryData<string> OptimizerNames => ["sgd", "adamw", "adam"];

    [Theory]
    [MemberData(nameof(OptimizerNames))]
    public void Optimizer_steps_match_pytorch_after_every_step(string name)
    {
        var model = new TrainableModel(OnnxModel.Load(Fixture("mlp_bn.onnx"))) { Training = true };
        var parameters = model.Parameters.ToList();
        Assert.Equal(5, parameters.Count); // running statistics are buffers, not parameters
        Optimizer optimizer = name switch
        {
            "sgd" => new Sgd(parameters, 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3),
            "adamw" => new AdamW([ParamGroup.Of(parameters)], 0.01, weightDecay: 0.05),
            _ => new Adam([ParamGroup.Of(parameters)], 0.01, weightDecay: 0.01),
        };
        var (x, y) = (Optim["x"], Optim["y"]);
        for (var step = 1; step <= 4; step++)
        {
            optimizer.ZeroGrad();
            Losses.CrossEntropy(model.Forward(x), y).Backward();
            optimizer.Step();
            foreach (var (pname, t) in model.AllTensors)
                AssertClose(Optim[$"{name}/{step}/{pname}"], t, 1e-5, $"{name} step {step} {pname}");
        }
    }

    [Fact]
    public void BatchNorm_training_mode_matches_pytorch_outputs_gradients_and_running_statistics()
    {
        var reference = Npy.LoadArchive(Fixture("bn2d.npz"));
        var model = new TrainableModel(OnnxModel.Load(Fixture("bn2d.onnx"))) { Training = true };
        Assert.Equal(["running_mean", "running_var"], model.BufferNames.Order());
        var x = reference["x"].Detach();
        x.RequiresGrad = true;
        var y = model.Forward(x);
        AssertClose(reference["y"], y, 1e-5, "y");
        var (scale, bias) = (model.Model.Parameters["weight"], model.Model.Parameters["bias"]);
        var grads = Autograd.Grad([y], [x, scale, bias], [reference["seed"]]);
        AssertClose(reference["dx"], grads[0]!, 1e-4, "dx");
        AssertClose(reference["dscale"], grads[1]!, 1e-4, "dscale");
        AssertClose(reference["dbias"], grads[2]!, 1e-4, "dbias");
        AssertClose(reference["running_mean"], model.Model.Parameters["running_mean"], 1e-5, "running mean");
        AssertClose(reference["running_var"], model.Model.Parameters["running_var"], 1e-5, "running var");
    }

    /// <summary>
    /// Two ResNet basic blocks in training mode (generate_training.py): the Conv → BatchNormalization [→ Add] → Relu chains
    /// run fused (BatchNormAddRelu) and must give PyTorch's outputs, input and parameter gradients and running statistics.
    /// </summary>
    [Fact]
    public void Residual_blocks_in_training_mode_match_pytorch_through_the_fused_normalisation()
    {
        var reference = Npy.LoadArchive(Fixture("resblock.npz"));
        var model = new TrainableModel(OnnxModel.Load(Fixture("resblock.onnx"))) { Training = true };
        var x = reference["x"].Detach();
        x.RequiresGrad = true;
        var y = model.Forward(x);
        Assert.Contains("BatchNormAddRelu", y.GradFn!.OpName, StringComparison.Ordinal); // the last block's Add and Relu ran fused
        AssertClose(reference["y"], y, 1e-5, "y");
        var names = reference.Keys.Where(k => k.StartsWith("grad/", StringComparison.Ordinal)).Select(k => k["grad/".Length..]).ToArray();
        Assert.Equal(15, names.Length); // five convolution weights, five scales and five shifts
        var grads = Autograd.Grad([y], [x, .. names.Select(n => model.Model.Parameters[n])], [reference["seed"]]);
        AssertClose(reference["dx"], grads[0]!, 1e-4, "dx");
        for (var i = 0; i < names.Length; i++) AssertClose(reference["grad/" + names[i]], grads[i + 1]!, 1e-4, names[i]);
        foreach (var key in reference.Keys.Where(k => k.StartsWith("running/", StringComparison.Ordinal)))
            AssertClose(reference[key], model.Model.Parameters[key["running/".Length..]], 1e-5, key);
    }

    private static TensorDataset Blobs(int n, ulong seed)
    {
        var rng = new TrainingRandom(seed);
        var x = new float[n * 6];
        var y = new long[n];
        for (var i = 0; i < n; i++)
        {
            y[i] = i % 3;
            for (var k = 0; k < 6; k++) x[i * 6 + k] = (float)((k % 3 == y[i] ? 1.5 : 0) + rng.NextDouble() - 0.5);
        }
        return new TensorDataset(new Tensor(x, new Shape(n, 6)), new Tensor(y, new Shape(n)), ["a", "b", "c"]);
    }

    private static (FineTuner Tuner, TrainableModel Model) Tuner(string? checkpoint, bool resume, int epochs, Action<TrainableModel>? prepare = null)
    {
        var model = new TrainableModel(OnnxModel.Load(Fixture("mlp_bn.onnx")));
        prepare?.Invoke(model);
        var options = new FineTuneOptions
        {
            Epochs = epochs, BatchSize = 4, Optimizer = "adamw", LearningRate = 0.01, Schedule = "cosine", WarmupSteps = 2, ClipNorm = 5,
            AccumulationSteps = 2, LabelSmoothing = 0.1, Seed = 7, CheckpointDirectory = checkpoint, CheckpointEvery = 3, Resume = resume,
        };
        return (new FineTuner(model, options), model);
    }

    [Fact]
    public void Resuming_from_a_checkpoint_gives_the_losses_and_weights_of_an_uninterrupted_run()
    {
        var data = Blobs(40, 3);
        Tuner(null, false, 1).Tuner.Fit(data); // settles the GEMM router's calibration, which may change backends (and rounding) on first use
        var (full, fullModel) = Tuner(null, false, 4);
        full.Fit(data);

        var dir = TestData.Temp();
        var (first, _) = Tuner(dir, false, 4);
        var stopAfter = 7; // mid-epoch: 5 optimizer steps per epoch (10 batches, 2 accumulated)
        first.OnStep = s =>
        {
            if (s.Step == stopAfter) throw new OperationCanceledException("simulated crash");
        };
        Assert.Throws<OperationCanceledException>(() => first.Fit(data));
        var (resumed, resumedModel) = Tuner(dir, true, 4);
        resumed.Fit(data);

        Assert.Equal(20, full.StepLosses.Count);
        Assert.Equal(full.StepLosses, resumed.StepLosses); // bit-identical, not merely close
        foreach (var (name, t) in fullModel.AllTensors)
            Assert.Equal(t.ToFloatArray(), resumedModel.AllTensors.Single(p => p.Key == name).Value.ToFloatArray());
        Assert.True(full.StepLosses[^1] < full.StepLosses[0], "the loss should fall");
    }

    [Fact]
    public void Frozen_parameters_never_change_and_the_rest_do()
    {
        var (tuner, model) = Tuner(null, false, 2, m => Assert.Equal(1, m.Freeze("fc1.*")));
        var before = model.AllTensors.ToDictionary(p => p.Key, p => p.Value.ToFloatArray());
        tuner.Fit(Blobs(16, 5));
        foreach (var (name, t) in model.AllTensors)
        {
            if (name.StartsWith("fc1.", StringComparison.Ordinal)) Assert.Equal(before[name], t.ToFloatArray());
            else Assert.NotEqual(before[name], t.ToFloatArray()); // trained weights and updated running statistics
        }
        Assert.Throws<OnnxImportException>(() => model.Freeze("nothing.matches*"));
    }

    [Fact]
    public void Exported_model_with_a_new_head_matches_backprop_eval_outputs_under_onnx_runtime()
    {
        var model = new TrainableModel(OnnxModel.Load(Fixture("mlp_bn.onnx")));
        var data = Blobs(24, 9);
        var sample = new Dictionary<string, Tensor> { ["x"] = data.Batch([0, 1]).Inputs };
        var head = model.AddHead(5, sample, new TrainingRandom(1), on: "/Tanh_output_0");
        new FineTuner(model, new FineTuneOptions { Epochs = 2, BatchSize = 6, Seed = 2 }).Fit(data);
        var path = Path.Combine(TestData.Temp(), "tuned.onnx");
        model.Export(path, dynamicBatch: true);
        model.Training = false;
        float[] ours;
        using (GradMode.NoGrad()) ours = model.Forward(data.Inputs).ToFloatArray();
        using var session = new InferenceSession(path);
        Assert.Equal(head.OutputName, session.OutputMetadata.Keys.Single());
        using var result = session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(data.Inputs.ToFloatArray(), [24, 6]))]);
        var theirs = result.Single().AsTensor<float>().ToArray();
        Assert.Equal(24 * 5, theirs.Length);
        for (var i = 0; i < ours.Length; i++)
            Assert.True(Math.Abs(ours[i] - theirs[i]) <= 1e-5 * Math.Max(1, Math.Abs(theirs[i])), $"logit {i}: Backprop {ours[i]} vs ONNX Runtime {theirs[i]}");
        // the exported running statistics are the trained ones, so a reload gives the same eval outputs
        var reloaded = new TrainableModel(OnnxModel.Load(path));
        using (GradMode.NoGrad()) Assert.Equal(ours, reloaded.Forward(data.Inputs).ToFloatArray());
    }
}
