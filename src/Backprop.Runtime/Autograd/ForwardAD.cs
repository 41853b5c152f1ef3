namespace Backprop.Runtime;

/// <summary>
/// Forward-mode automatic differentiation with nestable dual levels. Inside a level, tensors made
/// with <see cref="MakeDual"/> carry a tangent, and every op propagates it through its JVP rule.
/// Levels nest (forward-over-forward) and compose with reverse mode (forward-over-reverse).
/// </summary>
public static class ForwardAD
{
    private static int s_nextLevel;
    [ThreadStatic] private static List<int>? t_levels;
    [ThreadStatic] private static List<int>? t_hidden;
    [ThreadStatic] private static int t_suspended;

    /// <summary>Opens a dual level; dispose it to close. Tangents of a closed level are ignored.</summary>
    public static DualLevel Enter()
    {
        var id = Interlocked.Increment(ref s_nextLevel);
        (t_levels ??= []).Add(id);
        return new DualLevel(id);
    }

    /// <summary>A tensor equal to <paramref name="primal"/> whose tangent at <paramref name="level"/> (innermost by default) is <paramref name="tangent"/>.</summary>
    public static Tensor MakeDual(Tensor primal, Tensor tangent, DualLevel? level = null)
    {
        var id = ResolveLevel(level);
        if (tangent.Shape != primal.Shape || tangent.DType != primal.DType)
            throw new AutogradException($"Tangent {tangent.DType} {tangent.Shape} does not match primal {primal.DType} {primal.Shape}.");
        if (!primal.DType.IsFloatingPoint()) throw new AutogradException($"Only floating-point tensors carry tangents; got {primal.DType}.");
        var dual = TensorRuntime.Current.Invoke(AliasOp.Instance, [primal], OpAttributes.Empty)[0];
        dual.SetTangent(id, tangent);
        return dual;
    }

    /// <summary>The tangent of <paramref name="tensor"/> at <paramref name="level"/> (innermost by default); zeros when it has none.</summary>
    public static Tensor Tangent(Tensor tensor, DualLevel? level = null) =>
        tensor.TangentAt(ResolveLevel(level)) ?? Tensor.ZerosLike(tensor);

    internal static bool AnyActive => t_suspended == 0 && t_levels is { Count: > 0 };

    /// <summary>Stops all tangent propagation until disposed (used around raw forward kernels).</summary>
    internal static Suspension Suspend()
    {
        t_suspended++;
        return new Suspension(-1);
    }

    /// <summary>True if any of <paramref name="tensors"/> carries a tangent at an active level.</summary>
    internal static bool HasActiveTangent(IEnumerable<Tensor?> tensors)
    {
        if (!AnyActive) return false;
        foreach (var t in tensors)
        {
            if (t is null || !t.HasTangents) continue;
            foreach (var level in t_levels!)
            {
                if (!IsHidden(level) && t.TangentAt(level) is not null) return true;
            }
        }
        return false;
    }

    /// <summary>Runs <paramref name="op"/>'s JVP for every active level at which an input carries a tangent.</summary>
    internal static void Propagate(IDifferentiableOp op, OpContext ctx, ReadOnlySpan<Tensor> inputs, Tensor[] outputs)
    {
        var levels = t_levels!.ToArray();
        foreach (var level in levels)
        {
            if (IsHidden(level)) continue;
            Tensor?[]? tangents = null;
            for (var i = 0; i < inputs.Length; i++)
            {
                if (inputs[i].TangentAt(level) is { } t) (tangents ??= new Tensor?[inputs.Length])[i] = t;
            }
            if (tangents is null) continue;
            Tensor?[] result;
            (t_hidden ??= []).Add(level);
            try
            {
                result = op.Jvp(ctx, tangents);
            }
            catch (Exception e) when (OpFailedException.ShouldWrap(e))
            {
                throw OpFailedException.Wrap(op, "Jvp", e);
            }
            finally
            {
                t_hidden.RemoveAt(t_hidden.Count - 1);
            }
            Check.RuleOutputs(op, "Jvp", result, outputs);
            for (var k = 0; k < outputs.Length; k++)
            {
                if (result[k] is { } r && outputs[k].DType.IsFloatingPoint()) outputs[k].SetTangent(level, r);
            }
        }
    }

    private static bool IsHidden(int level) => t_hidden is { Count: > 0 } && t_hidden.Contains(level);

    private static int ResolveLevel(DualLevel? level)
    {
        if (level is { } l)
        {
            if (t_levels is null || !t_levels.Contains(l.Id)) throw new AutogradException($"Dual level {l.Id} is not open on this thread.");
            return l.Id;
        }
        if (t_levels is not { Count: > 0 }) throw new AutogradException("No dual level is open: use `using var level = ForwardAD.Enter();` first.");
        return t_levels[^1];
    }

    internal static void Exit(int id)
    {
        if (t_levels is null || t_levels.Count == 0 || t_levels[^1] != id)
            throw new AutogradException($"Dual level {id} closed out of order; close inner levels first.");
        t_levels.RemoveAt(t_levels.Count - 1);
    }

    internal readonly struct Suspension(int unused) : IDisposable
    {
        public void Dispose()
        {
            _ = unused;
            t_suspended--;
        }
    }
}

/// <summary>An open forward-mode level; dispose to close it.</summary>
public sealed class DualLevel : IDisposable
{
    private bool _closed;

    internal DualLevel(int id) => Id = id;

    /// <summary>The level's number, unique in the process.</summary>
    public int Id { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_closed) return;
        _closed = true;
        ForwardAD.Exit(Id);
    }
}

/// <summary>Identity that shares its input's buffer: how the engine attaches a tangent without touching the caller's tensor.</summary>
internal sealed class AliasOp : IDifferentiableOp
{
    public static readonly AliasOp Instance = new();

    public OpSchema Schema { get; } = new("ai.backprop.engine", "Alias", 1, 1, 1);

    public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> inputs) => [inputs[0].ViewAs(inputs[0].Shape)];

    public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> gradOutputs) => [gradOutputs[0]];

    public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> inputTangents) => [inputTangents[0]];
}
