namespace Backprop.Runtime;

/// <summary>An error in a backward or forward-mode pass (freed graph, missing seed, bad rule output).</summary>
public class AutogradException(string message) : BackpropException(message);

/// <summary>Higher-order differentiation reached an op whose rules are once-differentiable.</summary>
public sealed class HigherOrderNotSupportedException(string message) : AutogradException(message);

/// <summary>Anomaly detection found a NaN or infinity; names the op and node that produced it.</summary>
public sealed class AnomalyException(string message) : AutogradException(message);

/// <summary>An op was called with inputs that do not fit its schema.</summary>
public sealed class OpInvocationException(string message) : BackpropException(message);

/// <summary>
/// An op's own code (Forward, Vjp or Jvp) threw something other than a Backprop error — a bug in the op or its plugin. The
/// message names the op, the phase and the assembly (plugin) it came from; the original exception is the inner one.
/// The registries are untouched, so other ops keep working.
/// </summary>
public sealed class OpFailedException(string message, Exception inner) : BackpropException(message, inner)
{
    internal static bool ShouldWrap(Exception e) => e is not (BackpropException or OperationCanceledException or OutOfMemoryException);

    internal static OpFailedException Wrap(IDifferentiableOp op, string phase, Exception e) =>
        new($"{op.Schema.QualifiedName} (from {op.GetType().Assembly.GetName().Name}) threw in {phase}: {e.GetType().Name}: {e.Message}", e);
}
