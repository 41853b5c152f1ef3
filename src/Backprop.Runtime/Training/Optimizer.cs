using System.Numerics;
using System.Runtime.CompilerServices;
using Backprop.Runtime;

namespace Backprop.Training;

/// <summary>A set of named parameters sharing optimizer settings; null settings fall back to the optimizer's.</summary>
/// <param name="Parameters">The parameters by name (names must be unique across groups).</param>
public sealed record ParamGroup(IReadOnlyList<KeyValuePair<string, Tensor>> Parameters)
{
    /// <summary>This group's base learning rate, or null for the optimizer's.</summary>
    public double? LearningRate { get; init; }

    /// <summary>This group's weight decay, or null for the optimizer's.</summary>
    public double? WeightDecay { get; init; }

    /// <summary>A group holding <paramref name="parameters"/>.</summary>
    public static ParamGroup Of(IEnumerable<KeyValuePair<string, Tensor>> parameters) => new(parameters.ToList());
}

/// <summary>
/// Base of the optimizers: parameter groups, a learning-rate schedule, skipping of non-finite steps, and a state
/// dictionary for checkpoints. Updates are applied in place to the parameter tensors, outside the autograd graph.
/// </summary>
public abstract class Optimizer
{
    private readonly Dictionary<string, Tensor> _state = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _steps = new(StringComparer.Ordinal);

    /// <summary>Creates an optimizer over <paramref name="groups"/>.</summary>
    protected Optimizer(IEnumerable<ParamGroup> groups, double learningRate, double weightDecay)
    {
        Groups = groups.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, p) in Groups.SelectMany(g => g.Parameters))
        {
            if (!names.Add(name)) throw new ArgumentException($"parameter '{name}' appears twice in the optimizer's groups.", nameof(groups));
            if (!p.DType.IsFloatingPoint()) throw new ArgumentException($"parameter '{name}' is {p.DType}; only floating-point tensors can be optimized.", nameof(groups));
        }
        if (learningRate < 0 || !double.IsFinite(learningRate)) throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "the learning rate must be finite and non-negative.");
        LearningRate = learningRate;
        WeightDecay = weightDecay;
    }

    /// <summary>The parameter groups.</summary>
    public IReadOnlyList<ParamGroup> Groups { get; }

    /// <summary>Base learning rate of groups that set none.</summary>
    public double LearningRate { get; set; }

    /// <summary>Weight decay of groups that set none.</summary>
    public double WeightDecay { get; set; }

    /// <summary>Multiplies every group's base learning rate by its factor at <see cref="StepCount"/>; none means constant.</summary>
    public LearningRateSchedule? Schedule { get; set; }

    /// <summary>Optimizer steps taken (skipped steps excluded).</summary>
    public long StepCount { get; private set; }

    /// <summary>When set, a step whose gradients hold NaN or ∞ is skipped (gradients cleared, parameters untouched) and counted.</summary>
    public bool SkipNonFiniteSteps { get; set; }

    /// <summary>Steps skipped because a gradient was not finite.</summary>
    public long SkippedSteps { get; private set; }

    /// <summary>Every parameter by name.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> Parameters => Groups.SelectMany(g => g.Parameters);

    /// <summary>The learning rate <paramref name="group"/> uses on the next step.</summary>
    public double CurrentLearningRate(ParamGroup group) => (group.LearningRate ?? LearningRate) * (Schedule?.Factor(StepCount) ?? 1);

    /// <summary>Updates every parameter that has a gradient. Returns false when the step was skipped as non-finite.</summary>
    public bool Step()
    {
        using var _ = GradMode.NoGrad();
        if (SkipNonFiniteSteps && Parameters.Any(p => p.Value.Grad is { } g && !AllFinite(g)))
        {
            SkippedSteps++;
            ZeroGrad();
            return false;
        }
        foreach (var group in Groups)
        {
            var lr = CurrentLearningRate(group);
            var wd = group.WeightDecay ?? WeightDecay;
            foreach (var (name, p) in group.Parameters)
            {
                if (p.Grad is not { } g) continue;
                if (g.Shape != p.Shape) throw new ShapeException($"the gradient of '{name}' has shape {g.Shape} but the parameter has {p.Shape}.");
                _steps[name] = _steps.GetValueOrDefault(name) + 1;
                Update(name, p, g.DType == p.DType ? g : Ops.Cast(g, p.DType), lr, wd, _steps[name]);
            }
        }
        StepCount++;
        return true;
    }

    /// <summary>
    /// Clears every parameter's gradient. Gradients computed inside a <see cref="TensorScope"/> go back to its pool (read them
    /// before, or <see cref="Tensor.Keep"/> them; see <see cref="Tensor.ReleaseGrad"/>).
    /// </summary>
    public void ZeroGrad()
    {
        foreach (var (_, p) in Parameters) p.ReleaseGrad();
    }

    /// <summary>Applies one update to <paramref name="parameter"/> in place; <paramref name="step"/> counts this parameter's updates from 1.</summary>
    protected abstract void Update(string name, Tensor parameter, Tensor grad, double learningRate, double weightDecay, long step);

    /// <summary>The state tensor <paramref name="slot"/> of parameter <paramref name="name"/>, created as zeros on first use.</summary>
    protected Tensor State(string name, string slot, Tensor like)
    {
        var key = name + "/" + slot;
        if (!_state.TryGetValue(key, out var t)) _state[key] = t = Tensor.ZerosLike(like).Keep();
        return t;
    }

    /// <summary>True when state <paramref name="slot"/> of <paramref name="name"/> exists (e.g. a momentum buffer after the first step).</summary>
    protected bool HasState(string name, string slot) => _state.ContainsKey(name + "/" + slot);

    /// <summary>Everything needed to continue exactly: state tensors, per-parameter step counts, the step and skip counters.</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var dict = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (k, t) in _state) dict["state/" + k] = t.Clone();
        foreach (var (k, n) in _steps) dict["steps/" + k] = new Tensor(new[] { n }, Shape.Scalar);
        dict["counters"] = Tensor.FromArray([StepCount, SkippedSteps], 2);
        return dict;
    }

    /// <summary>Restores a <see cref="StateDict"/>; state of parameters this optimizer does not hold is an error.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> dict)
    {
        var names = Parameters.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        _state.Clear();
        _steps.Clear();
        foreach (var (k, t) in dict)
        {
            if (k.StartsWith("state/", StringComparison.Ordinal))
            {
                var key = k["state/".Length..];
                var param = key[..Math.Max(0, key.LastIndexOf('/'))];
                if (!names.TryGetValue(param, out var p)) throw new ArgumentException($"optimizer state names parameter '{param}', which this optimizer does not hold.", nameof(dict));
                if (t.Shape != p.Shape) throw new ShapeException($"optimizer state '{key}' has shape {t.Shape} but parameter '{param}' has {p.Shape}.");
                _state[key] = t.DType == p.DType ? t.Clone() : throw new DTypeException($"optimizer state '{key}' is {t.DType} but parameter '{param}' is {p.DType}.");
            }
            else if (k.StartsWith("steps/", StringComparison.Ordinal)) _steps[k["steps/".Length..]] = (long)t.Item();
            else if (k == "counters")
            {
                var c = t.ToInt64Array();
                (StepCount, SkippedSteps) = (c[0], c[1]);
            }
        }
    }

    /// <summary>Applies <paramref name="update"/> elementwise over the parameter, its gradient and up to two state buffers, in the parameter's precision.</summary>
    protected static void ForEach(Tensor parameter, Tensor grad, Tensor? s1, Tensor? s2, ElementUpdate update)
    {
        if (parameter.DType == DType.Float32) Apply<float>(parameter, grad, s1, s2, update);
        else Apply<double>(parameter, grad, s1, s2, update);
    }

    /// <summary>One element's update: parameter, gradient and two state values, all read and written in double.</summary>
    protected delegate void ElementUpdate(ref double parameter, double grad, ref double state1, ref double state2);

    /// <summary>Elements per piece when a large parameter's update is split across cores (updates are elementwise, so any split gives the same bits).</summary>
    private const int PieceElements = 1 << 16;

    private static void Apply<T>(Tensor parameter, Tensor grad, Tensor? s1, Tensor? s2, ElementUpdate update) where T : unmanaged, IFloatingPointIeee754<T> =>
        ForEachPiece(parameter.Size, (start, end) => Apply<T>(parameter, grad, s1, s2, update, start, end));

    /// <summary>Runs <paramref name="piece"/> over [start, end) ranges covering <paramref name="n"/> elements, side by side on the cores when there are many.</summary>
    private static void ForEachPiece(int n, Action<int, int> piece)
    {
        if (n < 4 * PieceElements || Environment.ProcessorCount < 2)
        {
            piece(0, n);
            return;
        }
        var pieces = (n + PieceElements - 1) / PieceElements;
        Parallel.For(0, pieces, k => piece(k * PieceElements, Math.Min(n, (k + 1) * PieceElements)));
    }

    /// <summary>
    /// Applies <paramref name="update"/> over the parameter, its gradient and up to two state buffers, a SIMD vector at a time
    /// (the last partial vector through a padded copy), split across cores for large parameters. <typeparamref name="T"/> must
    /// be the parameter's element type; every tensor must have its size.
    /// </summary>
    protected static void ForEachVector<T, TUpdate>(Tensor parameter, Tensor grad, Tensor? s1, Tensor? s2, TUpdate update)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TUpdate : struct, IVectorUpdate<T>
    {
        if (parameter.DType != (typeof(T) == typeof(float) ? DType.Float32 : DType.Float64))
            throw new DTypeException($"a {typeof(T).Name} update was applied to a {parameter.DType} parameter.");
        ForEachPiece(parameter.Size, (start, end) => Vectors<T, TUpdate>(parameter, grad, s1, s2, update, start, end));
    }

    private static void Vectors<T, TUpdate>(Tensor parameter, Tensor grad, Tensor? s1, Tensor? s2, TUpdate update, int start, int end)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TUpdate : struct, IVectorUpdate<T>
    {
        var p = parameter.Span<T>()[start..end];
        var g = grad.Span<T>()[start..end];
        var a = s1 is null ? default : s1.Span<T>()[start..end];
        var b = s2 is null ? default : s2.Span<T>()[start..end];
        var width = Vector<T>.Count;
        var full = p.Length / width * width;
        Vector<T> spare1 = default, spare2 = default;
        for (var i = 0; i < full; i += width)
        {
            var pv = new Vector<T>(p[i..]);
            ref var av = ref a.IsEmpty ? ref spare1 : ref Unsafe.As<T, Vector<T>>(ref a[i]);
            ref var bv = ref b.IsEmpty ? ref spare2 : ref Unsafe.As<T, Vector<T>>(ref b[i]);
            update.Apply(ref pv, new Vector<T>(g[i..]), ref av, ref bv);
            pv.CopyTo(p[i..]);
        }
        if (full == p.Length) return;
        Span<T> pt = stackalloc T[width], gt = stackalloc T[width], at = stackalloc T[width], bt = stackalloc T[width];
        var rest = p.Length - full;
        p[full..].CopyTo(pt);
        g[full..].CopyTo(gt);
        if (!a.IsEmpty) a[full..].CopyTo(at);
        if (!b.IsEmpty) b[full..].CopyTo(bt);
        var (pl, al, bl) = (new Vector<T>(pt), new Vector<T>(at), new Vector<T>(bt));
        update.Apply(ref pl, new Vector<T>(gt), ref al, ref bl);
        pl.CopyTo(pt);
        al.CopyTo(at);
        bl.CopyTo(bt);
        pt[..rest].CopyTo(p[full..]);
        if (!a.IsEmpty) at[..rest].CopyTo(a[full..]);
        if (!b.IsEmpty) bt[..rest].CopyTo(b[full..]);
    }

    private static void Apply<T>(Tensor parameter, Tensor grad, Tensor? s1, Tensor? s2, ElementUpdate update, int start, int end)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var p = parameter.Span<T>()[start..end];
        var g = grad.Span<T>()[start..end];
        var a = s1 is null ? default : s1.Span<T>()[start..end];
        var b = s2 is null ? default : s2.Span<T>()[start..end];
        for (var i = 0; i < p.Length; i++)
        {
            var (pv, av, bv) = (double.CreateTruncating(p[i]), a.IsEmpty ? 0 : double.CreateTruncating(a[i]), b.IsEmpty ? 0 : double.CreateTruncating(b[i]));
            update(ref pv, double.CreateTruncating(g[i]), ref av, ref bv);
            p[i] = T.CreateTruncating(pv);
            if (!a.IsEmpty) a[i] = T.CreateTruncating(av);
            if (!b.IsEmpty) b[i] = T.CreateTruncating(bv);
        }
    }

    private static bool AllFinite(Tensor t) => t.DType == DType.Float32 ? AllFinite(t.Span<float>()) : AllFinite(t.Span<double>());

    /// <summary>x − x is 0 for finite x and NaN for ±∞ and NaN, so one vector sum of differences finds any non-finite value.</summary>
    private static bool AllFinite<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Vector<T> acc = default;
        var i = 0;
        for (; i + Vector<T>.Count <= values.Length; i += Vector<T>.Count)
        {
            var x = new Vector<T>(values[i..]);
            acc += x - x;
        }
        for (; i < values.Length; i++)
        {
            if (!T.IsFinite(values[i])) return false;
        }
        return acc == Vector<T>.Zero;
    }
}
