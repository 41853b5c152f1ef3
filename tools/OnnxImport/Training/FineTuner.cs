using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Backprop.Runtime;
using Backprop.Training;

namespace Backprop.Onnx;

/// <summary>
/// The fine-tuning loop over a <see cref="TrainableModel"/>: shuffled mini-batches, loss (cross-entropy for int64 class
/// targets, MSE for float targets), gradient accumulation and clipping, the optimizer and its schedule, validation after each
/// epoch, and checkpoints from which a run resumes with exactly the losses an uninterrupted run would have had.
/// </summary>
public sealed class FineTuner
{
    /// <summary>File name of the newest checkpoint inside the checkpoint directory.</summary>
    public const string LatestCheckpoint = "latest.bpck";

    private static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private readonly List<EpochReport> _history = [];
    private readonly List<double> _stepLosses = [];

    // Each batch runs in a TensorScope over this pool: the step's activations and gradients reuse the previous step's buffers.
    private readonly BufferPool _pool = new();

    /// <summary>Prepares a run: seeds the random source (shared with the model's Dropout) and builds the optimizer.</summary>
    public FineTuner(TrainableModel model, FineTuneOptions options)
    {
        options.Validate();
        (Model, Options) = (model, options);
        Random = new TrainingRandom(options.Seed);
        model.Model.Random = Random;
        model.Model.FreezeBatchNormStatistics = options.FreezeBatchNorm;
        var head = model.Head is { } h ? new[] { h.WeightName, h.BiasName } : [];
        var trainable = model.Parameters.ToList();
        var groups = new List<ParamGroup> { ParamGroup.Of(trainable.Where(p => !head.Contains(p.Key))) };
        if (head.Length > 0) groups.Add(ParamGroup.Of(trainable.Where(p => head.Contains(p.Key))) with { LearningRate = options.HeadLearningRate });
        Optimizer = options.Optimizer switch
        {
            "adam" => new Adam(groups, options.LearningRate, weightDecay: options.WeightDecay),
            "adamw" => new AdamW(groups, options.LearningRate, weightDecay: options.WeightDecay),
            _ => new Sgd(groups, options.LearningRate, options.Momentum, nesterov: options.Nesterov, weightDecay: options.WeightDecay),
        };
        Optimizer.SkipNonFiniteSteps = options.SkipNonFiniteSteps;
    }

    /// <summary>The model being trained.</summary>
    public TrainableModel Model { get; }

    /// <summary>The run's settings.</summary>
    public FineTuneOptions Options { get; }

    /// <summary>The optimizer.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The run's random source (shuffling and Dropout); its state is checkpointed.</summary>
    public TrainingRandom Random { get; }

    /// <summary>Gradient statistics to record while training (null: none); see <see cref="TrainingStatistics"/>.</summary>
    public TrainingStatistics? Statistics { get; set; }

    /// <summary>Called after every optimizer step.</summary>
    public Action<StepReport>? OnStep { get; set; }

    /// <summary>Called after every epoch (after validation).</summary>
    public Action<EpochReport>? OnEpoch { get; set; }

    /// <summary>Epoch summaries so far (including those of a resumed run's earlier part).</summary>
    public IReadOnlyList<EpochReport> History => _history;

    /// <summary>The loss of every optimizer step so far.</summary>
    public IReadOnlyList<double> StepLosses => _stepLosses;

    /// <summary>Trains on <paramref name="train"/> for the configured epochs, validating on <paramref name="validation"/> after each.</summary>
    public void Fit(IDataset train, IDataset? validation = null, CancellationToken cancellation = default)
    {
        var batches = DataLoader.BatchCount(train, Options.BatchSize);
        if (batches == 0) throw new ArgumentException("the training data is empty.", nameof(train));
        var stepsPerEpoch = (batches + Options.AccumulationSteps - 1) / Options.AccumulationSteps;
        Optimizer.Schedule = MakeSchedule(stepsPerEpoch * (long)Options.Epochs);
        var (epoch, batch, epochState) = (1, 0, (ulong[]?)null);
        var checkpoint = Options.CheckpointDirectory is { } dir ? Path.Combine(dir, LatestCheckpoint) : null;
        if (Options.Resume && File.Exists(checkpoint)) (epoch, batch, epochState) = Restore(checkpoint);
        Statistics?.Start(Model, Optimizer.StepCount);
        try
        {
            Loop(train, validation, batches, epoch, batch, epochState, checkpoint, cancellation);
        }
        finally
        {
            Statistics?.Dispose();
        }
    }

    private void Loop(IDataset train, IDataset? validation, int batches, int epoch, int batch, ulong[]? epochState, string? checkpoint, CancellationToken cancellation)
    {
        for (; epoch <= Options.Epochs; epoch++, batch = 0, epochState = null)
        {
            var start = epochState ?? Random.State;
            var current = Random.State;
            Random.State = start;
            var order = Enumerable.Range(0, train.Count).ToArray();
            Random.ShuffleInPlace(order.AsSpan());
            if (epochState is not null) Random.State = current;
            var (lossSum, correct, seen, clock) = (0.0, 0L, 0L, Stopwatch.StartNew());
            Optimizer.ZeroGrad();
            var (stepLoss, inGroup) = (0.0, 0);
            for (; batch < batches; batch++)
            {
                cancellation.ThrowIfCancellationRequested();
                using var scope = _pool.Scope();
                var groupStart = batch / Options.AccumulationSteps * Options.AccumulationSteps;
                var groupSize = Math.Min(Options.AccumulationSteps, batches - groupStart);
                var indices = order.AsSpan(batch * Options.BatchSize, Math.Min(Options.BatchSize, train.Count - batch * Options.BatchSize));
                var (x, y) = train.Batch(indices);
                if (inGroup == 0) Statistics?.BeginStep(Optimizer.StepCount + 1);
                Model.Training = true;
                var output = Model.Forward(x);
                var loss = Loss(output, y);
                (groupSize == 1 ? loss : loss / groupSize).Backward();
                var value = loss.Item();
                lossSum += value * indices.Length;
                stepLoss += value / groupSize;
                correct += Correct(output, y);
                seen += indices.Length;
                if (++inGroup < groupSize) continue;
                Statistics?.BeforeUpdate(Optimizer.StepCount + 1);
                if (Options.ClipNorm is { } clip) GradClip.ClipGlobalNorm(Model.Parameters.Select(p => p.Value), clip);
                Optimizer.Step();
                Statistics?.AfterUpdate(Optimizer.StepCount);
                Optimizer.ZeroGrad();
                _stepLosses.Add(stepLoss);
                OnStep?.Invoke(new StepReport(epoch, Optimizer.StepCount, batch + 1, batches, stepLoss, seen / clock.Elapsed.TotalSeconds));
                (stepLoss, inGroup) = (0, 0);
                if (checkpoint is not null && Options.CheckpointEvery > 0 && Optimizer.StepCount % Options.CheckpointEvery == 0 && batch + 1 < batches)
                    Save(checkpoint, epoch, batch + 1, start);
            }
            var rate = seen / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
            var (vLoss, vAcc) = validation is { Count: > 0 } ? Evaluate(validation) : (double.NaN, double.NaN);
            var classification = seen > 0 && Classifies(train);
            var report = new EpochReport(epoch, lossSum / Math.Max(1, seen), classification ? (double)correct / seen : double.NaN, vLoss, vAcc, rate);
            _history.Add(report);
            if (checkpoint is not null) Save(checkpoint, epoch + 1, 0, null);
            OnEpoch?.Invoke(report);
        }
        Model.Training = false;
    }

    /// <summary>Mean loss and accuracy (NaN for regression) on <paramref name="data"/> in evaluation mode.</summary>
    public (double Loss, double Accuracy) Evaluate(IDataset data)
    {
        var wasTraining = Model.Training;
        Model.Training = false;
        try
        {
            using var _ = GradMode.NoGrad();
            var (lossSum, correct, n) = (0.0, 0L, 0L);
            foreach (var (x, y) in DataLoader.Batches(data, Options.BatchSize))
            {
                var output = Model.Forward(x);
                lossSum += Loss(output, y).Item() * y.Shape[0];
                correct += Correct(output, y);
                n += y.Shape[0];
            }
            return (lossSum / Math.Max(1, n), Classifies(data) ? (double)correct / Math.Max(1, n) : double.NaN);
        }
        finally
        {
            Model.Training = wasTraining;
        }
    }

    private Tensor Loss(Tensor output, Tensor target) =>
        target.DType == DType.Int64
            ? Losses.CrossEntropy(output.Rank == 2 ? output : Ops.Reshape(output, output.Shape[0], output.Size / Math.Max(1, output.Shape[0])), target, Options.LabelSmoothing, Options.ClassWeights)
            : Losses.Mse(output, target.Shape == output.Shape ? target : Ops.Reshape(target, output.Shape.ToArray()));

    private static bool Classifies(IDataset data) => data.ClassNames is not null;

    private static long Correct(Tensor output, Tensor target)
    {
        if (target.DType != DType.Int64 || output.Rank != 2) return 0;
        var (n, c) = (output.Shape[0], output.Shape[1]);
        var logits = output.ToFloatArray();
        var labels = target.ToInt64Array();
        long correct = 0;
        for (var i = 0; i < n; i++)
        {
            var best = 0;
            for (var k = 1; k < c; k++) if (logits[i * c + k] > logits[i * c + best]) best = k;
            if (best == labels[i]) correct++;
        }
        return correct;
    }

    private LearningRateSchedule? MakeSchedule(long totalSteps)
    {
        var after = Options.Schedule switch
        {
            "cosine" => LearningRateSchedule.Cosine(Math.Max(1, totalSteps - Options.WarmupSteps)),
            "step" => LearningRateSchedule.StepDecay(Math.Max(1, (totalSteps - Options.WarmupSteps + 2) / 3)),
            _ => null,
        };
        return Options.WarmupSteps > 0 ? LearningRateSchedule.LinearWarmup(Options.WarmupSteps, after) : after;
    }

    private void Save(string path, int epoch, int batch, ulong[]? epochState)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, t) in Model.AllTensors.Where(p => p.Value.DType.IsFloatingPoint())) tensors["model/" + name] = t;
        foreach (var (name, t) in Optimizer.StateDict()) tensors["optimizer/" + name] = t;
        var meta = new Dictionary<string, string>
        {
            ["epoch"] = epoch.ToString(CultureInfo.InvariantCulture),
            ["batch"] = batch.ToString(CultureInfo.InvariantCulture),
            ["random"] = string.Join(',', Random.State),
            ["epochRandom"] = epochState is null ? "" : string.Join(',', epochState),
            ["history"] = JsonSerializer.Serialize(_history, Json),
            ["stepLosses"] = JsonSerializer.Serialize(_stepLosses, Json),
            ["head"] = Model.Head is { } h ? JsonSerializer.Serialize(h) : "",
        };
        Checkpoint.Save(path, new CheckpointData(tensors, meta));
    }

    private (int Epoch, int Batch, ulong[]? EpochState) Restore(string path)
    {
        var data = Checkpoint.Load(path);
        Model.LoadState(data.Tensors.Where(p => p.Key.StartsWith("model/", StringComparison.Ordinal)).ToDictionary(p => p.Key, p => p.Value), "model/");
        Optimizer.LoadStateDict(data.Tensors.Where(p => p.Key.StartsWith("optimizer/", StringComparison.Ordinal)).ToDictionary(p => p.Key["optimizer/".Length..], p => p.Value));
        var meta = data.Metadata;
        try
        {
            Random.State = meta["random"].Split(',').Select(ulong.Parse).ToArray();
            var epochState = meta["epochRandom"].Length == 0 ? null : meta["epochRandom"].Split(',').Select(ulong.Parse).ToArray();
            _history.Clear();
            _history.AddRange(JsonSerializer.Deserialize<List<EpochReport>>(meta["history"], Json) ?? []);
            _stepLosses.Clear();
            _stepLosses.AddRange(JsonSerializer.Deserialize<List<double>>(meta["stepLosses"], Json) ?? []);
            return (int.Parse(meta["epoch"], CultureInfo.InvariantCulture), int.Parse(meta["batch"], CultureInfo.InvariantCulture), epochState);
        }
        catch (Exception e) when (e is KeyNotFoundException or FormatException or JsonException or OverflowException)
        {
            throw new CheckpointException($"checkpoint '{path}' lacks fine-tuning metadata ({e.Message}); was it written by another tool?", e);
        }
    }
}
