using System.Reflection;
using Backprop.Runtime;

namespace Backprop.Tests;

/// <summary>Where things are, and the shared runtime loaded from the plugins folder beside the tests.</summary>
internal static class TestEnv
{
    public static BackpropRuntime Runtime => BackpropRuntime.Default;

    public static string TestPluginsDir => Metadata("TestPluginsDir");

    public static string RepoRoot => Metadata("RepoRoot");

    public static string TestPlugin(string name) => Path.Combine(TestPluginsDir, name, name + ".dll");

    private static string Metadata(string key) =>
        typeof(TestEnv).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == key).Value!;

    public static Tensor D(params double[] values) => Tensor.FromArray(values);

    public static Tensor Leaf(params double[] values)
    {
        var t = Tensor.FromArray(values);
        t.RequiresGrad = true;
        return t;
    }

    public static void Close(double expected, double actual, double tol = 1e-9, string? what = null) =>
        Assert.True(Math.Abs(expected - actual) <= tol * Math.Max(1, Math.Abs(expected)), $"{what}: expected {expected}, got {actual}");

    public static void Close(double[] expected, Tensor actual, double tol = 1e-9)
    {
        var a = actual.ToDoubleArray();
        Assert.Equal(expected.Length, a.Length);
        for (var i = 0; i < a.Length; i++) Close(expected[i], a[i], tol, $"element {i}");
    }
}
