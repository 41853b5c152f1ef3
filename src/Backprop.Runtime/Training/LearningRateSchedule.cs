namespace Backprop.Training;

/// <summary>A learning-rate multiplier as a function of the number of optimizer steps already taken.</summary>
public abstract class LearningRateSchedule
{
    /// <summary>The factor applied to base learning rates on the step after <paramref name="step"/> completed steps.</summary>
    public abstract double Factor(long step);

    /// <summary>Multiplies by <paramref name="gamma"/> every <paramref name="stepSize"/> steps.</summary>
    public static LearningRateSchedule StepDecay(long stepSize, double gamma = 0.1) => new StepDecaySchedule(stepSize, gamma);

    /// <summary>Cosine annealing from 1 to <paramref name="minFactor"/> over <paramref name="totalSteps"/>, then flat.</summary>
    public static LearningRateSchedule Cosine(long totalSteps, double minFactor = 0) => new CosineSchedule(totalSteps, minFactor);

    /// <summary>Linear warm-up from 1/(<paramref name="warmupSteps"/>+1) to 1 over <paramref name="warmupSteps"/> steps, then <paramref name="after"/> (shifted to start at 0).</summary>
    public static LearningRateSchedule LinearWarmup(long warmupSteps, LearningRateSchedule? after = null) => new WarmupSchedule(warmupSteps, after);

    private sealed class StepDecaySchedule : LearningRateSchedule
    {
        private readonly long _size;
        private readonly double _gamma;

        public StepDecaySchedule(long size, double gamma)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
            (_size, _gamma) = (size, gamma);
        }

        public override double Factor(long step) => Math.Pow(_gamma, step / _size);
    }

    private sealed class CosineSchedule : LearningRateSchedule
    {
        private readonly long _total;
        private readonly double _min;

        public CosineSchedule(long total, double min)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(total);
            (_total, _min) = (total, min);
        }

        public override double Factor(long step) =>
            _min + (1 - _min) * (1 + Math.Cos(Math.PI * Math.Min(step, _total) / _total)) / 2;
    }

    private sealed class WarmupSchedule : LearningRateSchedule
    {
        private readonly long _warmup;
        private readonly LearningRateSchedule? _after;

        public WarmupSchedule(long warmup, LearningRateSchedule? after)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(warmup);
            (_warmup, _after) = (warmup, after);
        }

        public override double Factor(long step) =>
            step < _warmup ? (step + 1.0) / (_warmup + 1) : _after?.Factor(step - _warmup) ?? 1;
    }
}
