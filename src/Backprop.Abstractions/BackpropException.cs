namespace Backprop;

/// <summary>Base of every error Backprop raises on purpose.</summary>
public class BackpropException : Exception
{
    /// <summary>Creates the error with its message.</summary>
    public BackpropException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>Shapes that do not fit the operation.</summary>
public sealed class ShapeException(string message) : BackpropException(message);

/// <summary>A dtype the operation does not accept.</summary>
public sealed class DTypeException(string message) : BackpropException(message);

/// <summary>An op name that no loaded plugin registers.</summary>
public sealed class OpNotFoundException(string message) : BackpropException(message);

/// <summary>An invalid or missing op attribute.</summary>
public sealed class AttributeException(string message) : BackpropException(message);

/// <summary>A tensor read after its pooled buffer went back (its <see cref="TensorScope"/> ended or its lease released it).</summary>
public sealed class ReleasedTensorException(string message) : BackpropException(message);
