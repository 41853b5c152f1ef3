namespace Backprop;

/// <summary>
/// One differentiable operation: its forward computation and its local derivative rules.
/// Rules are written in differentiable tensor ops (<see cref="Ops"/>), so the engine can
/// differentiate them again. A null tensor in or out of a rule is a symbolic zero.
/// Implementations are stateless singletons: per-call state lives in the <see cref="OpContext"/>.
/// </summary>
public interface IDifferentiableOp
{
    /// <summary>Name, domain, version, arity.</summary>
    OpSchema Schema { get; }

    /// <summary>Computes the outputs. Must return new tensor objects (they may share buffers with inputs).</summary>
    Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> inputs);

    /// <summary>Reverse mode: gradients of the inputs given gradients of the outputs (vector-Jacobian product).</summary>
    Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> gradOutputs);

    /// <summary>Forward mode: tangents of the outputs given tangents of the inputs (Jacobian-vector product).</summary>
    Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> inputTangents);

    /// <summary>False when <see cref="Vjp"/> uses raw kernels, so its result cannot be differentiated again.</summary>
    bool SupportsHigherOrder => true;
}

/// <summary>Identity of an op and the shape of its signature.</summary>
/// <param name="Domain">ONNX-style domain; "" is the default ONNX domain.</param>
/// <param name="Name">Op name within the domain.</param>
/// <param name="SinceVersion">First opset version of the domain this implementation serves.</param>
/// <param name="MinInputs">Fewest inputs accepted.</param>
/// <param name="MaxInputs">Most inputs accepted.</param>
/// <param name="Outputs">Number of outputs, or -1 when attributes decide.</param>
public sealed record OpSchema(string Domain, string Name, int SinceVersion, int MinInputs, int MaxInputs, int Outputs = 1)
{
    /// <summary>A schema in the default domain at version 1.</summary>
    public static OpSchema Of(string name, int inputs, int outputs = 1) => new("", name, 1, inputs, inputs, outputs);

    /// <summary>"domain::Name" or "Name" for the default domain.</summary>
    public string QualifiedName => Domain.Length == 0 ? Name : $"{Domain}::{Name}";
}
