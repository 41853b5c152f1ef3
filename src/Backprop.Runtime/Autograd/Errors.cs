namespace Backprop.Runtime;

/// <summary>An error in a backward or forward-mode pass (freed graph, missing seed, bad rule output).</summary>
public class AutogradException(string message) : BackpropException(message);

/// <summary>Higher-order differentiation reached an op whose rules are once-differentiable.</summary>
public sealed class HigherOrderNotSupportedException(string message) : AutogradException(message);

/// <summary>Anomaly detection found a NaN or infinity; names the op and node that produced it.</summary>
public sealed class AnomalyException(string message) : AutogradException(message);

/// <summary>An op was called with inputs that do not fit its schema.</summary>
public sealed class OpInvocationException(string message) : BackpropException(message);
