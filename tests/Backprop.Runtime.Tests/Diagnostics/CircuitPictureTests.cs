using System.Xml.Linq;
using Backprop.Diagnostics;

namespace Backprop.Tests.Diagnostics;

/// <summary>
/// The textbook circuits drawn by Graphviz, with their values and gradients on the wires. With BACKPROP_WRITE_DOCS=1 the
/// pictures are also written to docs/images (that is how the ones in docs/gradient-pictures.md were made).
/// </summary>
public class CircuitPictureTests
{
    public CircuitPictureTests() => _ = TestEnv.Runtime;

    public static TheoryData<string> Circuits => ["add-multiply", "sigmoid"];

    [SkippableTheory]
    [MemberData(nameof(Circuits))]
    public void Circuit_pictures_show_every_gate_with_values_and_gradients(string circuit)
    {
        Skip.If(!Graphviz.IsAvailable() && Environment.GetEnvironmentVariable("CI") != "true", "Graphviz's dot is not installed (CI installs it)");
        var (graph, gates, texts) = circuit == "add-multiply"
            ? (GraphTests.AddMultiplyCircuit(), 2, new[] { "-12", "∇ -4", "∇ 3" })
            : (GraphTests.SigmoidCircuit(), 8, new[] { "0.731", "∇ 0.197", "∇ -0.393", "∇ -0.59" });
        var dot = graph.ToDot(new DotOptions { RankDirection = "LR", ShowParameters = false });
        var writeDocs = Environment.GetEnvironmentVariable("BACKPROP_WRITE_DOCS") == "1";
        var folder = writeDocs ? Path.Combine(TestEnv.RepoRoot, "docs", "images") : Directory.CreateTempSubdirectory("backprop-circuit").FullName;
        Directory.CreateDirectory(folder);
        var svg = Path.Combine(folder, $"circuit-{circuit}.svg");
        Graphviz.Render(dot, svg);
        if (writeDocs) Graphviz.Render(dot, Path.ChangeExtension(svg, ".png"));
        var doc = XDocument.Load(svg);
        XNamespace ns = "http://www.w3.org/2000/svg";
        var ops = doc.Descendants(ns + "g").Count(g => ((string?)g.Attribute("class"))?.Split(' ').Contains("op") == true);
        Assert.Equal(gates, ops);
        var text = string.Join(" ", doc.Descendants(ns + "text").Select(t => t.Value));
        foreach (var t in texts) Assert.Contains(t, text);
    }
}
