using Backprop.Diagnostics;
using static Backprop.Tests.TestEnv;

namespace Backprop.Tests.Diagnostics;

/// <summary>
/// Graph pictures of autograd records: the textbook circuits' values and gradients (worked on paper), gates that block
/// gradient, collapsing repeats, subgraphs and the DOT text.
/// </summary>
public class GraphTests
{
    public GraphTests() => _ = TestEnv.Runtime;

    /// <summary>f = (x + y)·z at x = −2, y = 5, z = −4: q = 3, f = −12; ∂f/∂q = z = −4, ∂f/∂z = q = 3, ∂f/∂x = ∂f/∂y = −4.</summary>
    internal static Graph AddMultiplyCircuit()
    {
        var (x, y, z) = (Leaf(-2), Leaf(5), Leaf(-4));
        var q = x + y;
        var f = q * z;
        using var trace = Graph.Trace([("f", f)], [("x", x), ("y", y), ("z", z), ("q", q)]);
        f.Backward();
        trace.Graph.Title = "f = (x + y)·z";
        return trace.Graph;
    }

    /// <summary>
    /// f = 1 / (1 + exp(−(w0·x0 + w1·x1 + w2))) at w = (2, −3, −3), x = (−1, −2), gate by gate: the argument is 1, f = σ(1) ≈ 0.731.
    /// </summary>
    internal static Graph SigmoidCircuit()
    {
        var (w0, x0, w1, x1, w2) = (Leaf(2), Leaf(-1), Leaf(-3), Leaf(-2), Leaf(-3));
        var a = w0 * x0;
        var b = w1 * x1;
        var s = a + b;
        var dot = s + w2;
        var neg = -dot;
        var e = Ops.Exp(neg);
        var d = e + 1.0;
        var f = Ops.Reciprocal(d);
        using var trace = Graph.Trace([("f", f)],
            [("w0", w0), ("x0", x0), ("w1", w1), ("x1", x1), ("w2", w2), ("w0·x0", a), ("w1·x1", b), ("sum", s), ("dot", dot), ("−dot", neg), ("exp", e), ("1+exp", d)]);
        f.Backward();
        trace.Graph.Title = "f = 1 / (1 + exp(−(w0·x0 + w1·x1 + w2)))";
        return trace.Graph;
    }

    private static double Value(Graph g, string name) => g.Find(name)!.Preview![0];

    private static double Grad(Graph g, string name) => g.Find(name)!.GradientPreview![0];

    [Fact]
    public void Add_multiply_circuit_shows_the_values_and_gradients_worked_on_paper()
    {
        var g = AddMultiplyCircuit();
        Assert.Equal(["Add", "Mul"], g.Nodes.Select(n => n.Op));
        Close(3, Value(g, "q"));
        Close(-12, Value(g, "f"));
        Close(-4, Grad(g, "q"));
        Close(-4, Grad(g, "x"));
        Close(-4, Grad(g, "y"));
        Close(3, Grad(g, "z"));
        Close(1, Grad(g, "f"));
        // the add gate distributes: both its input edges carry the gradient of its output
        Assert.All(g.Nodes[0].Inputs, e => Close(4, e.Gradient!.Value.Norm));
        var dot = g.ToDot();
        Assert.Contains("op_0", dot);
        Assert.Contains("op_1", dot);
        Assert.Contains("∇ -4", dot);
        Assert.DoesNotContain("op_2", dot);
    }

    [Fact]
    public void Sigmoid_circuit_gate_by_gate_matches_calculus()
    {
        var g = SigmoidCircuit();
        var sigma = 1 / (1 + Math.Exp(-1));
        Close(sigma, Value(g, "f"), 1e-6);
        Close(1 + Math.Exp(-1), Value(g, "1+exp"), 1e-6);
        // d(1/u)/du = −1/u²; d(exp v)/dv = exp v; the negation flips the sign; adds distribute; multiplies swap.
        var u = 1 + Math.Exp(-1);
        Close(-1 / (u * u), Grad(g, "1+exp"), 1e-6);
        Close(-1 / (u * u), Grad(g, "exp"), 1e-6);
        Close(-1 / (u * u) * Math.Exp(-1), Grad(g, "−dot"), 1e-6);
        var local = sigma * (1 - sigma);
        Close(local, Grad(g, "dot"), 1e-6);
        Close(local, Grad(g, "w2"), 1e-6);
        Close(-1 * local, Grad(g, "w0"), 1e-6);
        Close(2 * local, Grad(g, "x0"), 1e-6);
        Close(-2 * local, Grad(g, "w1"), 1e-6);
        Close(-3 * local, Grad(g, "x1"), 1e-6);
        Assert.Equal(8, g.Nodes.Count);
    }

    [Fact]
    public void Relu_blocks_the_gradient_of_its_negative_inputs_and_says_how_much()
    {
        var x = Leaf(-1, 2, -3, 4);
        var y = Ops.Relu(x);
        var loss = Ops.Sum(y * D(1, 1, 1, 1));
        using var trace = Graph.Trace([("loss", loss)], [("x", x), ("relu", y)]);
        loss.Backward();
        var relu = trace.Graph.Nodes.Single(n => n.Op == "Relu");
        Close(0.5, relu.BlockedFraction!.Value);
        Assert.Contains("blocks 50%", trace.Graph.ToDot());
        var mul = trace.Graph.Nodes.Single(n => n.Op == "Mul");
        Close(0, mul.BlockedFraction!.Value);
    }

    [Fact]
    public void Vanishing_and_missing_gradients_are_marked()
    {
        var x = Leaf(1, 2);
        var tiny = x * D(1e-12, 1e-12);
        var loss = Ops.Sum(tiny) + Ops.Sum(x * D(3, 4));
        using var trace = Graph.Trace([("loss", loss)], [("x", x)]);
        loss.Backward();
        var dot = trace.Graph.ToDot();
        // the constant 1e-12 factor receives ‖∇‖ = ‖x‖ ≈ 2.2 and x receives ≈ 5; nothing is vanishing here
        Assert.DoesNotContain("class=\"vanishing\"", dot);
        var scaled = trace.Graph.ToDot(new DotOptions { VanishingRatio = 0.5 });
        Assert.Contains("class=\"vanishing\"", scaled); // the Sum of the 1e-12 branch (‖∇‖ = 1) is below half of the largest (5)
    }

    [Fact]
    public void Tracing_after_backward_is_a_clear_error()
    {
        var x = Leaf(1, 2);
        var y = Ops.Sum(Ops.Exp(x));
        y.Backward();
        var e = Assert.Throws<Runtime.AutogradException>(() => Graph.Trace([("y", y)]));
        Assert.Contains("Trace before", e.Message);
    }

    [Fact]
    public void Disposing_a_trace_removes_its_hooks_from_leaves()
    {
        var x = Leaf(1, 2);
        var y = Ops.Sum(x * x);
        var trace = Graph.Trace([("y", y)], [("x", x)]);
        trace.Dispose();
        y.Backward();
        Assert.Null(trace.Graph.Find("x")!.Gradient);
        Close([2, 4], x.Grad!);
    }

    /// <summary>Three blocks Conv → Relu → Add(skip) in a row collapse into one node that repeats three times.</summary>
    [Fact]
    public void Repeated_blocks_collapse_into_one_node_and_prefixes_cut_subgraphs()
    {
        var g = new Graph("blocks");
        g.Value("x", ValueKind.Input);
        g.AddNode("Stem", "stem", ["x"], ["h0"]);
        for (var b = 0; b < 3; b++)
        {
            g.Value($"w{b}", ValueKind.Parameter);
            g.AddNode("Conv", $"layer{b}.conv", [$"h{b}", $"w{b}"], [$"c{b}"]);
            g.AddNode("Relu", $"layer{b}.relu", [$"c{b}"], [$"r{b}"]);
            g.AddNode("Add", $"layer{b}.add", [$"r{b}", $"h{b}"], [$"h{b + 1}"]);
        }
        g.AddNode("Head", "head", ["h3"], ["y"]);
        g.Value("y").Kind = ValueKind.Output;
        var collapsed = g.CollapseRepeats();
        Assert.Equal(["Stem", "3× block", "Head"], collapsed.Nodes.Select(n => n.Op));
        var block = collapsed.Nodes[1];
        Assert.Equal(3, block.Repeats);
        Assert.Contains("Conv → Relu → Add", block.Detail);
        Assert.Equal(["h0"], block.Inputs.Select(e => e.Value.Name));
        Assert.Equal(["h3"], block.Outputs.Select(v => v.Name));
        Assert.Equal("layer", block.Name.TrimEnd('…'));

        var sub = g.Select("layer1.");
        Assert.Equal(["Conv", "Relu", "Add"], sub.Nodes.Select(n => n.Op));
        Assert.Equal(ValueKind.Input, sub.Find("h1")!.Kind);
        Assert.Throws<ArgumentException>(() => g.Select("nothing"));
        // no repeat: nothing collapses
        Assert.Equal(g.Select("layer0.").Nodes.Count, g.Select("layer0.").CollapseRepeats().Nodes.Count);
    }
}
