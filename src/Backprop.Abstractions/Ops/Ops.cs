namespace Backprop;

/// <summary>
/// The differentiable tensor API. Every function dispatches to the op registered under its name, so
/// the result is recorded for reverse mode, carries forward-mode tangents, and can be differentiated
/// again. Derivative rules are written with these functions.
/// </summary>
public static partial class Ops
{
    /// <summary>Domain of Backprop's own (non-ONNX) ops.</summary>
    public const string BackpropDomain = "ai.backprop";

    /// <summary>Invokes a single-output op by name in the default domain.</summary>
    public static Tensor Call(string name, OpAttributes attributes, params ReadOnlySpan<Tensor> inputs) =>
        TensorRuntime.Current.Invoke("", name, inputs, attributes)[0];

    /// <summary>Invokes a single-output op by name in the default domain, without attributes.</summary>
    public static Tensor Call(string name, params ReadOnlySpan<Tensor> inputs) =>
        TensorRuntime.Current.Invoke("", name, inputs, OpAttributes.Empty)[0];

    /// <summary>Invokes an op by domain and name, returning every output.</summary>
    public static Tensor[] CallMulti(string domain, string name, OpAttributes attributes, params ReadOnlySpan<Tensor> inputs) =>
        TensorRuntime.Current.Invoke(domain, name, inputs, attributes);

    /// <summary>Invokes a specific op instance, returning its first output.</summary>
    public static Tensor Call(IDifferentiableOp op, OpAttributes attributes, params ReadOnlySpan<Tensor> inputs) =>
        TensorRuntime.Current.Invoke(op, inputs, attributes)[0];

    private static Tensor Unary(string name, Tensor x) => Call(name, x);

    private static Tensor Binary(string name, Tensor a, Tensor b) => Call(name, a, b);
}
