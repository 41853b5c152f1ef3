using Backprop.Runtime;
using Backprop.Testing;
using static Backprop.Tests.TestEnv;

namespace Backprop.Tests;

/// <summary>Plugins built from tests/Plugins, loaded from disk beside Ops.Core.</summary>
public class PluginTests
{
    private static BackpropRuntime Load(params string[] plugins)
    {
        var options = new RuntimeOptions();
        options.PluginPaths.AddRange(plugins.Select(TestPlugin));
        return BackpropRuntime.Create(options);
    }

    [Fact]
    public void A_plugin_from_disk_is_used_in_a_graph_and_differentiated()
    {
        var rt = Load("SamplePlugin");
        Assert.Empty(rt.PluginFailures);
        Assert.Contains(rt.Plugins, p => p.Name == "SamplePlugin" && p.Ops.Contains("com.example::SquarePlusSin"));
        using var _ = rt.Activate();
        var x = Leaf(0.5, -1.0);
        var y = Ops.CallMulti("com.example", "SquarePlusSin", OpAttributes.Empty, Ops.Exp(x))[0];
        Ops.Sum(y).Backward();
        // d/dx [e^{2x} + sin e^x] = 2e^{2x} + cos(e^x)·e^x
        var expected = x.ToDoubleArray().Select(v => 2 * Math.Exp(2 * v) + Math.Cos(Math.Exp(v)) * Math.Exp(v)).ToArray();
        Close(expected, x.Grad!, 1e-12);
    }

    [Fact]
    public void The_sample_plugin_passes_the_kit_including_the_once_differentiable_error()
    {
        var rt = Load("SamplePlugin");
        var ours = rt.Ops.All.Where(r => r.Plugin == "SamplePlugin").ToList();
        Assert.Equal(2, ours.Count);
        var results = ours.SelectMany(r => OpConformance.Check(rt, r.Op)).ToList();
        OpConformance.AssertAllPassed(results);
        Assert.Contains(results, r => r.Op == "com.example::RawCube" && r.Check == "once-differentiable-error" && r.Passed);
    }

    [Fact]
    public void Create_graph_through_a_once_differentiable_op_names_the_op()
    {
        var rt = Load("SamplePlugin");
        using var _ = rt.Activate();
        var x = Leaf(1.0, 2.0);
        var y = Ops.CallMulti("com.example", "RawCube", OpAttributes.Empty, x)[0];
        var first = Autograd.Grad(Ops.Sum(y), x); // first order is fine
        Close([3, 12], first, 1e-12);
        var y2 = Ops.CallMulti("com.example", "RawCube", OpAttributes.Empty, x)[0];
        var e = Assert.Throws<HigherOrderNotSupportedException>(() => Autograd.Grad(Ops.Sum(y2), x, createGraph: true));
        Assert.Contains("com.example::RawCube", e.Message);
    }

    [Fact]
    public void A_plugin_that_throws_in_Register_is_reported_and_leaves_nothing_behind()
    {
        var rt = Load("ThrowingPlugin", "SamplePlugin");
        var failure = Assert.Single(rt.PluginFailures);
        Assert.EndsWith("ThrowingPlugin.dll", failure.Path);
        Assert.Contains("deliberate failure in Register", failure.Reason);
        Assert.DoesNotContain(rt.Ops.All, r => r.Op.Schema.Domain == "com.example.throwing");
        Assert.Contains(rt.Plugins, p => p.Name == "SamplePlugin");
        Assert.Contains(rt.Plugins, p => p.Name == "Ops.Core");
    }

    [Fact]
    public void A_duplicate_op_key_is_refused_naming_both_plugins()
    {
        var rt = Load("DuplicatePlugin");
        var failure = Assert.Single(rt.PluginFailures);
        Assert.Contains("'Relu'", failure.Reason);
        Assert.Contains("Ops.Core", failure.Reason);
        Assert.Contains("DuplicatePlugin", failure.Reason);
        // Ops.Core's Relu still serves.
        using var _ = rt.Activate();
        Close([0, 2], Ops.Relu(D(-1, 2)));
    }

    [Fact]
    public void A_plugin_with_a_missing_dependency_is_reported_with_its_path()
    {
        var rt = Load("MissingDepPlugin");
        var failure = Assert.Single(rt.PluginFailures);
        Assert.EndsWith("MissingDepPlugin.dll", failure.Path);
        Assert.Contains("MissingDepHelper", failure.Reason);
        Assert.Contains(rt.Plugins, p => p.Name == "Ops.Core");
    }

    [Fact]
    public void A_path_with_no_plugin_is_reported()
    {
        var options = new RuntimeOptions { LoadDefaultPlugins = false };
        options.PluginPaths.Add(Path.Combine(TestPluginsDir, "does-not-exist"));
        var rt = BackpropRuntime.Create(options);
        Assert.Contains("no plugin found", Assert.Single(rt.PluginFailures).Reason);
        using var _ = rt.Activate();
        var e = Assert.Throws<OpNotFoundException>(() => Ops.Relu(D(1)));
        Assert.Contains("Relu", e.Message);
    }

    [Fact]
    public void ThrowOnPluginFailure_raises_with_every_failure()
    {
        var options = new RuntimeOptions { ThrowOnPluginFailure = true };
        options.PluginPaths.Add(TestPlugin("ThrowingPlugin"));
        options.PluginPaths.Add(TestPlugin("DuplicatePlugin"));
        var e = Assert.Throws<PluginLoadException>(() => BackpropRuntime.Create(options));
        Assert.Equal(2, e.Failures.Count);
    }

    [Fact]
    public void A_plugin_built_against_another_contract_major_is_refused_naming_both_versions()
    {
        var rt = Load("FutureContractPlugin");
        var failure = Assert.Single(rt.PluginFailures);
        Assert.Contains("FutureContractPlugin", failure.Path);
        Assert.Contains("Backprop.Abstractions 2.x", failure.Reason);
        Assert.Contains($"{ContractVersion.Major}.x", failure.Reason);
        Assert.DoesNotContain(rt.Plugins, p => p.Name == "FutureContractPlugin");
        using var _ = rt.Activate();
        Close([0, 2], Ops.Relu(D(-1, 2))); // the standard ops are unaffected
    }

    [Fact]
    public void An_op_that_throws_is_reported_with_its_name_and_assembly_and_leaves_the_registry_intact()
    {
        var rt = BackpropRuntime.Create(new RuntimeOptions());
        Assert.True(rt.Register("faulty", new FaultyModule()));
        using var _ = rt.Activate();
        var forward = Assert.Throws<OpFailedException>(() => Ops.CallMulti("com.faulty", "Explodes", OpAttributes.Empty, D(1)));
        Assert.Contains("com.faulty::Explodes", forward.Message);
        Assert.Contains("Forward", forward.Message);
        Assert.Contains(typeof(FaultyModule).Assembly.GetName().Name!, forward.Message);
        Assert.IsType<InvalidOperationException>(forward.InnerException);

        var x = Leaf(1, 2);
        var y = Ops.CallMulti("com.faulty", "BadGradient", OpAttributes.Empty, x)[0];
        var backward = Assert.Throws<OpFailedException>(() => Ops.Sum(y).Backward());
        Assert.Contains("com.faulty::BadGradient", backward.Message);
        Assert.Contains("Vjp", backward.Message);

        var z = Leaf(3);
        Ops.Sum(Ops.Mul(z, z)).Backward(); // the registry and the engine still work
        Close([6], z.Grad!);
        Assert.NotNull(rt.Ops.Resolve("com.faulty", "Explodes", 1));
    }

    private sealed class FaultyModule : IOpModule
    {
        public void Register(IOpRegistry registry)
        {
            registry.AddOp(new Faulty("Explodes", forwardThrows: true));
            registry.AddOp(new Faulty("BadGradient", forwardThrows: false));
        }
    }

    private sealed class Faulty(string name, bool forwardThrows) : IDifferentiableOp
    {
        public OpSchema Schema { get; } = new("com.faulty", name, 1, 1, 1);

        public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x) =>
            forwardThrows ? throw new InvalidOperationException("boom in forward") : [x[0].Clone()];

        public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) => throw new IndexOutOfRangeException("boom in backward");

        public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t) => [t[0]];
    }

    [Fact]
    public void An_unloaded_plugin_s_ops_are_gone_and_its_load_context_is_collected()
    {
        var rt = Load("SamplePlugin");
        UseSamplePlugin(rt);
        var context = rt.Unload("SamplePlugin");
        for (var i = 0; i < 20 && context.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.False(context.IsAlive, "the plugin's load context should be collected once nothing uses its ops");
        Assert.DoesNotContain(rt.Plugins, p => p.Name == "SamplePlugin");
        using var _ = rt.Activate();
        Assert.Throws<OpNotFoundException>(() => Ops.CallMulti("com.example", "SquarePlusSin", OpAttributes.Empty, D(1)));
        Assert.Throws<BackpropException>(() => rt.Unload("Ops.Core")); // the standard ops stay
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void UseSamplePlugin(BackpropRuntime rt)
    {
        using var _ = rt.Activate();
        var x = Leaf(0.5);
        Ops.Sum(Ops.CallMulti("com.example", "SquarePlusSin", OpAttributes.Empty, x)[0]).Backward();
        Assert.NotNull(x.Grad);
    }

    [Fact]
    public void An_explicit_override_replaces_an_op()
    {
        var rt = BackpropRuntime.Create(new RuntimeOptions());
        Assert.True(rt.Register("overrides", new OverrideModule()));
        using var _ = rt.Activate();
        Close([7, 7], Ops.Relu(D(-1, 2)));
    }

    private sealed class OverrideModule : IOpModule
    {
        public void Register(IOpRegistry registry) => registry.OverrideOp(new SevenRelu(), priority: 10);
    }

    private sealed class SevenRelu : IDifferentiableOp
    {
        public OpSchema Schema { get; } = OpSchema.Of("Relu", 1);

        public Tensor[] Forward(OpContext ctx, ReadOnlySpan<Tensor> x) => [Tensor.Full(x[0].Shape, 7, x[0].DType)];

        public Tensor?[] Vjp(OpContext ctx, ReadOnlySpan<Tensor?> g) => [null];

        public Tensor?[] Jvp(OpContext ctx, ReadOnlySpan<Tensor?> t) => [null];
    }
}
