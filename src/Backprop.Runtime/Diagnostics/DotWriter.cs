using System.Globalization;
using System.Text;

namespace Backprop.Diagnostics;

/// <summary>Writes a <see cref="Graph"/> in Graphviz's DOT language. Op nodes get ids op_0, op_1, …; values val_0, ….</summary>
internal static class DotWriter
{
    private const string Normal = "#37474f", Vanishing = "#1e88e5", Exploding = "#e53935", NoGradient = "#b0bec5", Gate = "#ffe0b2";

    public static string Write(Graph graph, DotOptions o)
    {
        var largest = graph.LargestGradientNorm();
        var norms = graph.Nodes.SelectMany(n => n.Inputs).Select(e => e.Gradient?.Norm ?? 0).Where(v => v > 0 && double.IsFinite(v)).Order().ToList();
        var median = norms.Count == 0 ? 0 : norms[norms.Count / 2];
        var sb = new StringBuilder();
        sb.AppendLine("digraph backprop {");
        sb.AppendLine($"  graph [rankdir={o.RankDirection} fontname=\"Helvetica\" fontsize=11 labelloc=b nodesep=0.3 ranksep=0.35];");
        sb.AppendLine("  node [fontname=\"Helvetica\" fontsize=10 shape=box style=\"rounded,filled\" fillcolor=\"#eceff1\" color=\"#546e7a\"];");
        sb.AppendLine("  edge [fontname=\"Helvetica\" fontsize=8 arrowsize=0.6];");
        var ids = new Dictionary<GraphValue, string>();
        var k = 0;
        foreach (var v in graph.Values.Where(v => v.Producer is null))
        {
            var asNode = v.Kind == ValueKind.Input || (!o.ShowParameters && v.Kind is ValueKind.Parameter or ValueKind.Constant);
            if (!asNode) continue;
            ids[v] = $"val_{k++}";
            sb.AppendLine($"  {ids[v]} [id=\"{ids[v]}\" class=\"input\" shape=ellipse fillcolor=\"#e8f5e9\" label=<{Html(v.Name)}<br/><font point-size=\"8\">{Html(Describe(v, o))}</font>>];");
        }
        foreach (var n in graph.Nodes)
        {
            var lines = new List<string> { $"<b>{Html(n.Op)}</b>" };
            if (n.Name.Length > 0 && n.Name != n.Op) lines.Add($"<font point-size=\"8\">{Html(Shorten(n.Name, 48))}</font>");
            if (n.Detail is { } d) lines.Add($"<font point-size=\"8\">{Html(Shorten(d, 90))}</font>");
            if (o.ShowParameters)
            {
                foreach (var e in n.Inputs.Where(e => e.Value.Producer is null && e.Value.Kind is ValueKind.Parameter or ValueKind.Constant))
                {
                    var grad = e.Gradient is { } g ? $" ∇ {GradText(e.Value, g, o)}" : "";
                    lines.Add($"<font point-size=\"8\" color=\"#607d8b\">{Html(Shorten(e.Value.Name, 32))} {Html(Describe(e.Value, o))}{Html(grad)}</font>");
                }
            }
            var blocked = n.BlockedFraction;
            var gate = n.Repeats == 1 && blocked is { } b && b > o.GateThreshold;
            if (gate) lines.Add($"<font point-size=\"9\" color=\"#e65100\">blocks {Percent(blocked!.Value)} · passes {Percent(1 - blocked.Value)}</font>");
            var fill = gate ? $" fillcolor=\"{Gate}\"" : n.Repeats > 1 ? " fillcolor=\"#d1c4e9\"" : "";
            sb.AppendLine($"  op_{n.Index} [id=\"op_{n.Index}\" class=\"op\"{fill} label=<{string.Join("<br/>", lines)}>];");
        }
        foreach (var v in graph.Values.Where(v => v.Kind == ValueKind.Output))
        {
            ids[v] = $"val_{k++}";
            sb.AppendLine($"  {ids[v]} [id=\"{ids[v]}\" class=\"output\" shape=ellipse fillcolor=\"#fff8e1\" label=<{Html(v.Name)}<br/><font point-size=\"8\">{Html(Describe(v, o))}</font>>];");
        }
        foreach (var n in graph.Nodes)
        {
            foreach (var e in n.Inputs)
            {
                string from;
                if (e.Value.Producer is { } p) from = $"op_{p.Index}";
                else if (ids.TryGetValue(e.Value, out var id)) from = id;
                else continue;
                sb.AppendLine($"  {from} -> op_{n.Index} [{EdgeStyle(e.Value, e.Gradient, largest, median, o)}];");
            }
        }
        foreach (var v in graph.Values.Where(v => v.Kind == ValueKind.Output && v.Producer is not null))
            sb.AppendLine($"  op_{v.Producer!.Index} -> {ids[v]} [{EdgeStyle(v, v.Gradient, largest, median, o)}];");
        if (o.Legend)
        {
            var caption = $"{graph.Title}\\nEdges: value (shape) and ‖∇‖, the norm of the gradient flowing back along them; line width ∝ log ‖∇‖.\\n" +
                $"Blue: vanishing (< {TensorStats.Format(o.VanishingRatio)} of the largest, {TensorStats.Format(largest)}); red: exploding or non-finite; grey dashed: no gradient.\\n" +
                "Orange nodes block part of the gradient (ReLU masks, max routing).";
            sb.AppendLine($"  label=\"{Escape(caption)}\";");
        }
        sb.AppendLine("}");
        return sb.ToString();
    }

    private static string EdgeStyle(GraphValue v, TensorStats? gradient, double largest, double median, DotOptions o)
    {
        var label = new StringBuilder(Describe(v, o));
        if (gradient is not { } g)
            return $"label=<{Html(label.ToString())}> color=\"{NoGradient}\" fontcolor=\"#78909c\" style=dashed";
        label.Append('\n').Append(o.ShowSmallValues && v.GradientPreview is { } gp && g.Count <= 4 ? "∇ " + List(gp) : "‖∇‖ " + TensorStats.Format(g.Norm));
        var exploding = !double.IsFinite(g.Norm) || (median > 0 && g.Norm > o.ExplodingRatio * median);
        var vanishing = largest > 0 && g.Norm < o.VanishingRatio * largest;
        var color = exploding ? Exploding : vanishing ? Vanishing : Normal;
        var width = largest > 0 && g.Norm > 0 && double.IsFinite(g.Norm) ? 0.6 + 2.4 * Math.Clamp((Math.Log10(g.Norm / largest) + 8) / 8, 0, 1) : 0.6;
        var lines = label.ToString().Split('\n').Select(Html);
        return $"label=<{string.Join("<br/>", lines)}> color=\"{color}\" fontcolor=\"{(color == Normal ? "#455a64" : color)}\" penwidth={width.ToString("0.##", CultureInfo.InvariantCulture)}"
            + (vanishing ? " class=\"vanishing\"" : exploding ? " class=\"exploding\"" : "");
    }

    private static string GradText(GraphValue v, TensorStats g, DotOptions o) =>
        o.ShowSmallValues && v.GradientPreview is { } gp && g.Count <= 4 ? List(gp) : "‖" + TensorStats.Format(g.Norm) + "‖";

    private static string Describe(GraphValue v, DotOptions o)
    {
        if (o.ShowSmallValues && v.Preview is { } p && v.Stats is { Count: <= 4 }) return List(p);
        return v.Shape is { } s ? $"[{string.Join("×", s.Dims.ToArray())}]" + (v.DType is { } d && d != Backprop.DType.Float32 ? " " + d : "") : "";
    }

    private static string List(double[] xs) => xs.Length == 1 ? TensorStats.Format(xs[0]) : "[" + string.Join(", ", xs.Select(TensorStats.Format)) + "]";

    private static string Percent(double f) => (100 * f).ToString(f < 0.1 ? "0.#" : "0", CultureInfo.InvariantCulture) + "%";

    private static string Shorten(string s, int max) => s.Length <= max ? s : s[..(max / 2 - 1)] + "…" + s[^(max / 2 - 1)..];

    private static string Html(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;");

    private static string Escape(string s) => s.Replace("\"", "\\\"");
}
