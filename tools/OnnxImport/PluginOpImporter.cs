using Backprop.Onnx.Proto;

namespace Backprop.Onnx;

/// <summary>
/// Runs a node of a custom domain on the op a loaded plugin registered under the same (domain, op_type), passing
/// the node's attributes through (ints, floats, strings and their lists).
/// </summary>
public sealed class PluginOpImporter(string domain, string opType) : INodeImporter
{
    /// <inheritdoc />
    public string OpType => opType;

    /// <inheritdoc />
    public string Domain => domain;

    /// <inheritdoc />
    public Tensor?[] Run(NodeContext ctx)
    {
        var attrs = OpAttributes.Empty;
        foreach (var a in ctx.Node.Attribute)
        {
            object? value = a.Type switch
            {
                AttributeProto.Types.AttributeType.Int => a.I,
                AttributeProto.Types.AttributeType.Float => (double)a.F,
                AttributeProto.Types.AttributeType.String => a.S.ToStringUtf8(),
                AttributeProto.Types.AttributeType.Ints => a.Ints.ToArray(),
                AttributeProto.Types.AttributeType.Floats => a.Floats.Select(f => (double)f).ToArray(),
                AttributeProto.Types.AttributeType.Tensor => TensorConverter.ToTensor(a.T),
                _ => throw ctx.Error($"attribute '{a.Name}' of type {a.Type} cannot be passed to a plugin op."),
            };
            attrs = attrs.With(a.Name, value);
        }
        var inputs = ctx.Inputs.Select((t, i) => t ?? throw ctx.Error($"input {i} is missing; plugin ops take no optional inputs.")).ToArray();
        return TensorRuntime.Current.Invoke(domain, opType, inputs, attrs);
    }
}
