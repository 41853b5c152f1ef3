namespace Backprop.Diagnostics;

/// <summary>How <see cref="Graph.ToDot"/> draws a graph.</summary>
public sealed record DotOptions
{
    /// <summary>An edge whose gradient norm is below this fraction of the graph's largest is drawn as vanishing (blue).</summary>
    public double VanishingRatio { get; init; } = 1e-7;

    /// <summary>
    /// An edge whose gradient norm exceeds this multiple of the median non-zero edge norm, or is not finite, is drawn as
    /// exploding (red).
    /// </summary>
    public double ExplodingRatio { get; init; } = 1e6;

    /// <summary>A node that zeroes more than this fraction of its incoming gradient is shaded as a gate (ReLU, max, clip).</summary>
    public double GateThreshold { get; init; } = 0.01;

    /// <summary>List parameters and constants inside the node that reads them (instead of leaving them out).</summary>
    public bool ShowParameters { get; init; } = true;

    /// <summary>Graphviz rank direction: "TB" (top to bottom) or "LR" (left to right, as textbook circuits are drawn).</summary>
    public string RankDirection { get; init; } = "TB";

    /// <summary>Print the values of tensors with at most four elements (textbook circuits) instead of only their shapes.</summary>
    public bool ShowSmallValues { get; init; } = true;

    /// <summary>Add a legend explaining colours to the caption.</summary>
    public bool Legend { get; init; } = true;
}
