using Backprop.Runtime;
using Backprop.Training;

namespace Backprop.Onnx.Tests;

/// <summary>Independent models on several threads — inference and training — give exactly the results of serial runs.</summary>
public class ConcurrencyTests
{
    private static string Model => Path.Combine(TestData.RepoRoot, "tests", "fixtures", "training", "mlp_bn.onnx");

    private static Tensor Input(int seed) => Tensor.Normal(new Shape(4, 6), new Random(seed));

    private static float[] Infer(OnnxModel model, int seed)
    {
        using var _ = GradMode.NoGrad();
        return model.Run(new Dictionary<string, Tensor> { ["x"] = Input(seed) })["y"].ToFloatArray();
    }

    private static float[] Train(int seed)
    {
        var model = new TrainableModel(OnnxModel.Load(Model)) { Training = true };
        var sgd = new Sgd(model.Parameters, 0.05, momentum: 0.9);
        var y = Tensor.FromArray([0L, 1, 2, 1], 4);
        for (var step = 0; step < 50; step++)
        {
            sgd.ZeroGrad();
            Losses.CrossEntropy(model.Forward(Input(seed * 1000 + step)), y).Backward();
            sgd.Step();
        }
        return model.AllTensors.SelectMany(p => p.Value.ToFloatArray()).ToArray();
    }

    [Fact]
    public void Eight_threads_of_inference_and_training_match_serial_runs()
    {
        const int threads = 8, runs = 1000;
        var shared = OnnxModel.Load(Model); // one imported model, read concurrently in inference
        var serialInference = Enumerable.Range(0, runs).Select(i => Infer(shared, i)).ToArray();
        var serialTraining = Enumerable.Range(0, threads).Select(Train).ToArray();

        var inference = new float[threads][][];
        var training = new float[threads][];
        var errors = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            try
            {
                inference[t] = Enumerable.Range(0, runs).Select(i => Infer(shared, i)).ToArray();
                training[t] = Train(t);
            }
            catch (Exception e)
            {
                errors.Add(e);
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        Assert.Empty(errors);
        for (var t = 0; t < threads; t++)
        {
            for (var i = 0; i < runs; i++) Assert.Equal(serialInference[i], inference[t][i]);
            Assert.Equal(serialTraining[t], training[t]);
        }
    }
}
