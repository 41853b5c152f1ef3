namespace Backprop.Onnx;

/// <summary>Settings of a fine-tuning run; the defaults suit fine-tuning a pretrained image model.</summary>
public sealed record FineTuneOptions
{
    /// <summary>Passes over the training data.</summary>
    public int Epochs { get; init; } = 3;

    /// <summary>Samples per forward/backward pass.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Micro-batches whose gradients are summed (and averaged) before each optimizer step.</summary>
    public int AccumulationSteps { get; init; } = 1;

    /// <summary>sgd, adam or adamw.</summary>
    public string Optimizer { get; init; } = "sgd";

    /// <summary>Base learning rate.</summary>
    public double LearningRate { get; init; } = 0.01;

    /// <summary>Learning rate of the new head (null: the base rate).</summary>
    public double? HeadLearningRate { get; init; }

    /// <summary>SGD momentum.</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>SGD Nesterov momentum.</summary>
    public bool Nesterov { get; init; }

    /// <summary>Weight decay (L2 for SGD and Adam, decoupled for AdamW).</summary>
    public double WeightDecay { get; init; }

    /// <summary>constant, cosine or step (×0.1 every third of the run).</summary>
    public string Schedule { get; init; } = "constant";

    /// <summary>Optimizer steps of linear warm-up before the schedule.</summary>
    public int WarmupSteps { get; init; }

    /// <summary>Clip gradients to this global L2 norm (null: no clipping).</summary>
    public double? ClipNorm { get; init; }

    /// <summary>Cross-entropy label smoothing.</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>Per-class loss weights (null: equal).</summary>
    public double[]? ClassWeights { get; init; }

    /// <summary>Skip optimizer steps whose gradients are not finite (and count them) instead of corrupting the weights.</summary>
    public bool SkipNonFiniteSteps { get; init; }

    /// <summary>Keep BatchNormalization on its running statistics while training (see <see cref="OnnxModel.FreezeBatchNormStatistics"/>).</summary>
    public bool FreezeBatchNorm { get; init; }

    /// <summary>Seed of shuffling, Dropout and head initialisation.</summary>
    public ulong Seed { get; init; }

    /// <summary>Folder for checkpoints (latest.bpck); null: none.</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>Also checkpoint every this many optimizer steps (0: at the end of each epoch only).</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>Continue from the checkpoint in <see cref="CheckpointDirectory"/> when there is one.</summary>
    public bool Resume { get; init; }

    /// <summary>Validates the settings; a clear message per bad value.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "at least one epoch.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "the batch size must be at least 1.");
        if (AccumulationSteps < 1) throw new ArgumentOutOfRangeException(nameof(AccumulationSteps), AccumulationSteps, "accumulation steps must be at least 1.");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "the learning rate must be positive and finite.");
        if (Optimizer is not ("sgd" or "adam" or "adamw")) throw new ArgumentException($"unknown optimizer '{Optimizer}'; use sgd, adam or adamw.", nameof(Optimizer));
        if (Schedule is not ("constant" or "cosine" or "step")) throw new ArgumentException($"unknown schedule '{Schedule}'; use constant, cosine or step.", nameof(Schedule));
        if (Resume && CheckpointDirectory is null) throw new ArgumentException("resuming needs a checkpoint directory.", nameof(Resume));
    }
}

/// <summary>Progress after one optimizer step.</summary>
/// <param name="Epoch">Epoch, from 1.</param>
/// <param name="Step">Optimizer steps taken so far.</param>
/// <param name="Batch">Batches done in this epoch.</param>
/// <param name="Batches">Batches per epoch.</param>
/// <param name="Loss">This step's mean loss.</param>
/// <param name="SamplesPerSecond">Training throughput of this epoch so far.</param>
public sealed record StepReport(int Epoch, long Step, int Batch, int Batches, double Loss, double SamplesPerSecond);

/// <summary>Summary of one epoch.</summary>
/// <param name="Epoch">Epoch, from 1.</param>
/// <param name="TrainLoss">Mean training loss.</param>
/// <param name="TrainAccuracy">Training accuracy (classification; NaN otherwise).</param>
/// <param name="ValidationLoss">Validation loss (NaN without validation data).</param>
/// <param name="ValidationAccuracy">Validation accuracy (NaN without validation data or for regression).</param>
/// <param name="SamplesPerSecond">Training throughput.</param>
public sealed record EpochReport(int Epoch, double TrainLoss, double TrainAccuracy, double ValidationLoss, double ValidationAccuracy, double SamplesPerSecond);
