using System.Diagnostics;

namespace Backprop.Runtime;

/// <summary>Where a gradient flowing into an op input goes: another node's output, or a leaf.</summary>
internal readonly record struct Edge(Node? Node, int OutputIndex, Tensor? Leaf)
{
    public bool IsNone => Node is null && Leaf is null;
}

/// <summary>A recorded op invocation: the op, its saved context and the edges to its inputs.</summary>
internal sealed class Node : IGradNode
{
    private static long s_nextId;

    public Node(IDifferentiableOp op, OpContext ctx, Edge[] inputs)
    {
        Op = op;
        Context = ctx;
        Inputs = inputs;
        Id = Interlocked.Increment(ref s_nextId);
        if (GradMode.IsAnomalyDetectionEnabled) CreationTrace = new StackTrace(2, false).ToString();
    }

    public IDifferentiableOp Op { get; }

    public OpContext Context { get; }

    public Edge[] Inputs { get; }

    public long Id { get; }

    public string OpName => Op.Schema.QualifiedName;

    /// <summary>Where the node was created, recorded in anomaly mode.</summary>
    public string? CreationTrace { get; }

    public string Describe() => $"'{OpName}' (node #{Id})" + (CreationTrace is null ? "" : $", created at:\n{CreationTrace}");

    public override string ToString() => $"{OpName}#{Id}";
}
