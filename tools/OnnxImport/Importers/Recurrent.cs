using Backprop.Onnx.Proto;

namespace Backprop.Onnx.Importers;

/// <summary>
/// What ONNX's RNN, GRU and LSTM share (https://onnx.ai/onnx/operators/onnx__LSTM.html): directions, hidden size,
/// activation lists, layout, sequence lengths and the time loop. Each step is built from differentiable ops (Gemm,
/// elementwise, Where for sequence masks), so the unrolled graph has reverse, forward and higher-order derivatives with no
/// recurrent-specific rule. The input projection X·Wᵀ of all steps is one GEMM; each step adds one GEMM with R.
/// </summary>
internal static class Recurrent
{
    private static readonly HashSet<string> Known =
        ["Sigmoid", "Tanh", "Relu", "LeakyRelu", "HardSigmoid", "Affine", "ScaledTanh", "Elu", "Softsign", "Softplus", "ThresholdedRelu"];

    /// <summary>The node's configuration problems that can be seen before running, or null.</summary>
    public static string? Unsupported(NodeProto node, int activationsPerDirection)
    {
        foreach (var a in node.Attribute)
        {
            if (a.Name == "activations" && a.Strings.Select(s => s.ToStringUtf8()).FirstOrDefault(s => !Known.Contains(s)) is { } unknown)
                return $"activation '{unknown}' is not supported ({string.Join(", ", Known)} are).";
            if (a.Name == "activations" && a.Strings.Count % activationsPerDirection != 0)
                return $"{a.Strings.Count} activations; {activationsPerDirection} per direction expected.";
            if (a.Name == "direction" && a.S.ToStringUtf8() is not ("forward" or "reverse" or "bidirectional") and var d)
                return $"direction '{d}' is not forward, reverse or bidirectional.";
            if (a.Name == "input_forget" && a.I != 0) return "input_forget = 1 (coupled input and forget gates) is not supported.";
        }
        return null;
    }

    /// <summary>A node's recurrent set-up: time-major input, sizes, directions, activations, sequence masks.</summary>
    public sealed class Setup
    {
        public required Tensor X { get; init; }

        public required int Steps { get; init; }

        public required int Batch { get; init; }

        public required int Hidden { get; init; }

        public required bool[] Reverse { get; init; }

        public required bool BatchFirst { get; init; }

        public required Func<Tensor, Tensor>[][] Activations { get; init; }

        public float? ClipAt { get; init; }

        /// <summary>Per step, [batch, 1] true where the step is inside that sequence; null when every sequence is full length.</summary>
        public Tensor[]? Masks { get; init; }

        public Tensor Clip(Tensor x) => ClipAt is { } c ? Ops.Clip(x, -c, c) : x;
    }

    /// <summary>Reads X, W's leading size, attributes and sequence_lens (input 4).</summary>
    public static Setup Read(NodeContext ctx, int gates, string[] defaults)
    {
        var batchFirst = ctx.Int("layout", 0) != 0;
        var x = ctx.Input(0);
        if (x.Rank != 3) throw ctx.Error($"X {x.Shape} must be 3-D.");
        if (batchFirst) x = Ops.Transpose(x, 1, 0, 2);
        var (steps, batch, inputSize) = (x.Shape[0], x.Shape[1], x.Shape[2]);
        var w = ctx.Input(1);
        var r = ctx.Input(2);
        var direction = ctx.String("direction", "forward");
        var directions = direction == "bidirectional" ? 2 : 1;
        var hidden = (int)ctx.Int("hidden_size", r.Rank == 3 ? r.Shape[2] : 0);
        if (hidden <= 0) throw ctx.Error("hidden_size is missing and R does not give it.");
        if (w.Shape != new Shape(directions, gates * hidden, inputSize))
            throw ctx.Error($"W {w.Shape} should be [{directions}, {gates * hidden}, {inputSize}] for {direction} with hidden size {hidden}.");
        if (r.Shape != new Shape(directions, gates * hidden, hidden))
            throw ctx.Error($"R {r.Shape} should be [{directions}, {gates * hidden}, {hidden}].");
        var names = ctx.Strings("activations") is { Length: > 0 } given ? given : [.. Enumerable.Repeat(defaults, directions).SelectMany(d => d)];
        if (names.Length != defaults.Length * directions) throw ctx.Error($"{names.Length} activations for {directions} direction(s); {defaults.Length} each expected.");
        var (alphas, betas) = (new Queue<float>(ctx.Floats("activation_alpha") ?? []), new Queue<float>(ctx.Floats("activation_beta") ?? []));
        var activations = Enumerable.Range(0, directions)
            .Select(d => names.Skip(d * defaults.Length).Take(defaults.Length).Select(n => Activation(n, alphas, betas, ctx)).ToArray()).ToArray();
        Tensor[]? masks = null;
        if (ctx.Optional(4) is { } lengthsTensor)
        {
            var lengths = lengthsTensor.ToInt64Array();
            if (lengths.Length != batch) throw ctx.Error($"sequence_lens has {lengths.Length} entries for a batch of {batch}.");
            if (lengths.Any(l => l < 0 || l > steps)) throw ctx.Error($"sequence_lens [{string.Join(", ", lengths)}] must lie within 0..{steps}.");
            if (lengths.Any(l => l != steps))
                masks = Enumerable.Range(0, steps).Select(t => new Tensor(lengths.Select(l => t < l).ToArray(), new Shape(batch, 1))).ToArray();
        }
        return new Setup
        {
            X = x, Steps = steps, Batch = batch, Hidden = hidden, BatchFirst = batchFirst, Activations = activations, Masks = masks,
            Reverse = direction switch { "reverse" => [true], "bidirectional" => [false, true], _ => [false] },
            ClipAt = ctx.Has("clip") ? ctx.Float("clip", 0) : null,
        };
    }

    private static Func<Tensor, Tensor> Activation(string name, Queue<float> alphas, Queue<float> betas, NodeContext ctx)
    {
        float A(float fallback) => alphas.Count > 0 ? alphas.Dequeue() : fallback;
        float B(float fallback) => betas.Count > 0 ? betas.Dequeue() : fallback;
        switch (name)
        {
            case "Sigmoid": return Ops.Sigmoid;
            case "Tanh": return Ops.Tanh;
            case "Relu": return Ops.Relu;
            case "Softsign": return x => x / (Ops.Abs(x) + 1.0);
            case "Softplus": return Ops.Softplus;
            case "LeakyRelu": { var a = A(0.01f); return x => Ops.LeakyRelu(x, a); }
            case "Elu": { var a = A(1f); return x => Ops.Elu(x, a); }
            case "ThresholdedRelu": { var a = A(1f); return x => Ops.Where(Ops.Greater(x, Ops.ScalarLike(x, a)), x, Ops.ScalarLike(x, 0)); }
            case "HardSigmoid": { var (a, b) = (A(0.2f), B(0.5f)); return x => Ops.Clip(x * a + b, 0, 1); }
            case "Affine": { var (a, b) = (A(1f), B(0f)); return x => x * a + b; }
            case "ScaledTanh": { var (a, b) = (A(1f), B(1f)); return x => Ops.Tanh(x * b) * a; }
            default: throw ctx.Error($"activation '{name}' is not supported.");
        }
    }

    /// <summary>Direction <paramref name="d"/>'s slice of a [directions, …] tensor, without the leading axis.</summary>
    public static Tensor Direction(Tensor t, int d) => Ops.Squeeze(Ops.Slice(t, [d], [d + 1], [0]), 0);

    /// <summary>
    /// The initial state (initial_h or initial_c, [directions, batch, hidden], or [batch, directions, hidden] with layout 1)
    /// for direction <paramref name="d"/>; zeros when absent.
    /// </summary>
    public static Tensor Initial(NodeContext ctx, int input, Setup s, int d)
    {
        if (ctx.Optional(input) is not { } t) return Tensor.Zeros(new Shape(s.Batch, s.Hidden), s.X.DType);
        if (s.BatchFirst) t = Ops.Transpose(t, 1, 0, 2);
        if (t.Shape != new Shape(s.Reverse.Length, s.Batch, s.Hidden))
            throw ctx.Error($"input {input} {t.Shape} should be [{s.Reverse.Length}, {s.Batch}, {s.Hidden}] (directions, batch, hidden).");
        return Direction(t, d);
    }

    /// <summary>The input projection X·W[d]ᵀ + bias of every step, one [batch, gates·hidden] tensor per step in time order.</summary>
    public static Tensor[] Project(Setup s, Tensor w, int d, Tensor? bias)
    {
        var flat = Ops.Reshape(s.X, s.Steps * s.Batch, s.X.Shape[2]);
        var projected = Ops.Gemm(flat, Direction(w, d), bias, transB: true);
        if (s.Steps == 1) return [projected];
        return Ops.Split(projected, 0, [.. Enumerable.Repeat(s.Batch, s.Steps)]);
    }

    /// <summary>
    /// Runs one direction: <paramref name="cell"/> maps (step input projection, state) to the new state, whose first tensor is
    /// the output h. Returns h at every step in time order (zero past a sequence's end) and the final state.
    /// </summary>
    public static (Tensor[] Outputs, Tensor[] Final) Loop(Setup s, int d, Tensor[] projected, Tensor[] state, Func<Tensor, Tensor[], Tensor[]> cell)
    {
        var outputs = new Tensor[s.Steps];
        var order = s.Reverse[d] ? Enumerable.Range(0, s.Steps).Reverse() : Enumerable.Range(0, s.Steps);
        foreach (var t in order)
        {
            var next = cell(projected[t], state);
            if (s.Masks is { } masks)
            {
                // Past a sequence's end the state is carried over unchanged and the output is zero (ONNX's convention).
                outputs[t] = Ops.Where(masks[t], next[0], Ops.ScalarLike(next[0], 0));
                for (var k = 0; k < next.Length; k++) next[k] = Ops.Where(masks[t], next[k], state[k]);
            }
            else outputs[t] = next[0];
            state = next;
        }
        return (outputs, state);
    }

    /// <summary>Assembles Y [steps, directions, batch, hidden] and the final states [directions, batch, hidden] (layout 1: batch first).</summary>
    public static Tensor?[] Outputs(Setup s, List<Tensor[]> perDirection, List<Tensor[]> finals)
    {
        var y = Ops.Concat(1, [.. perDirection.Select(steps => Ops.Unsqueeze(Ops.Concat(0, [.. steps.Select(h => Ops.Unsqueeze(h, 0))]), 1))]);
        var result = new List<Tensor?> { s.BatchFirst ? Ops.Transpose(y, 2, 0, 1, 3) : y };
        for (var k = 0; k < finals[0].Length; k++)
        {
            var state = Ops.Concat(0, [.. finals.Select(f => Ops.Unsqueeze(f[k], 0))]);
            result.Add(s.BatchFirst ? Ops.Transpose(state, 1, 0, 2) : state);
        }
        return [.. result];
    }
}
