namespace Backprop.Onnx;

/// <summary>A model that cannot be imported: malformed, hostile, over a limit, or using unsupported ops. Says what and where.</summary>
public class OnnxImportException : BackpropException
{
    /// <summary>Creates the error; <paramref name="node"/> and <paramref name="tensor"/> name where it happened, when known.</summary>
    public OnnxImportException(string message, string? node = null, string? tensor = null, Exception? inner = null)
        : base(Where(node, tensor) + message, inner)
    {
        Node = node;
        Tensor = tensor;
    }

    /// <summary>The node the error is about, if any.</summary>
    public string? Node { get; }

    /// <summary>The tensor the error is about, if any.</summary>
    public string? Tensor { get; }

    private static string Where(string? node, string? tensor) =>
        node is not null ? $"node '{node}': " : tensor is not null ? $"tensor '{tensor}': " : "";
}

/// <summary>Every node whose op has no importer, listed at once before anything runs.</summary>
public sealed class UnsupportedOpsException(IReadOnlyList<string> nodes)
    : OnnxImportException($"{nodes.Count} node(s) use ops Backprop cannot import:\n  " + string.Join("\n  ", nodes))
{
    /// <summary>One line per unsupported node: op, domain, opset, node name and the supported versions.</summary>
    public IReadOnlyList<string> Nodes { get; } = nodes;
}

/// <summary>Caps that keep hostile or corrupt files from exhausting the machine; checked before allocating.</summary>
public sealed record ImportLimits
{
    /// <summary>Largest element count of one tensor (default 2³¹ − 1, the largest buffer .NET can hold).</summary>
    public long MaxTensorElements { get; init; } = int.MaxValue;

    /// <summary>Largest total size of all initializers in bytes (default 12 GiB, half of a 24 GB machine).</summary>
    public long MaxInitializerBytes { get; init; } = 12L << 30;

    /// <summary>Largest number of nodes, subgraphs included (default one million).</summary>
    public int MaxNodes { get; init; } = 1_000_000;

    /// <summary>Deepest nesting of subgraphs (If/Loop bodies; default 16).</summary>
    public int MaxSubgraphDepth { get; init; } = 16;

    /// <summary>
    /// Most iterations one Loop node may run (default 100,000): a trip count above it, or a condition still true after it,
    /// is an error naming the node instead of a run that never ends.
    /// </summary>
    public long MaxLoopIterations { get; init; } = 100_000;

    /// <summary>Deepest protobuf message nesting accepted by the parser (default 100).</summary>
    public int MaxProtobufDepth { get; init; } = 100;

    /// <summary>The defaults.</summary>
    public static ImportLimits Default { get; } = new();
}
