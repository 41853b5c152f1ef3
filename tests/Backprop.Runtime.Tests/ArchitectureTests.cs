using System.Text.RegularExpressions;

namespace Backprop.Tests;

/// <summary>The engine stays generic: no op names, no plugin references.</summary>
public partial class ArchitectureTests
{
    [Fact]
    public void Runtime_sources_name_no_registered_op()
    {
        var ops = TestEnv.Runtime.Ops.All.Select(r => r.Op.Schema.Name).ToHashSet();
        Assert.True(ops.Count > 40, "expected the core op set to be loaded");
        var dir = Path.Combine(TestEnv.RepoRoot, "src", "Backprop.Runtime");
        var offenders = new List<string>();
        foreach (var file in Directory.EnumerateFiles(dir, "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains("/obj/") && !f.Contains("/bin/")))
        {
            foreach (Match m in StringLiteral().Matches(File.ReadAllText(file)))
            {
                if (ops.Contains(m.Groups[1].Value)) offenders.Add($"{Path.GetFileName(file)}: \"{m.Groups[1].Value}\"");
            }
        }
        Assert.True(offenders.Count == 0, "the engine names ops: " + string.Join(", ", offenders));
    }

    [Fact]
    public void Runtime_references_no_plugin()
    {
        var references = typeof(Backprop.Runtime.BackpropRuntime).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.DoesNotContain(references, n => n.StartsWith("Ops.", StringComparison.Ordinal));
        var project = File.ReadAllText(Path.Combine(TestEnv.RepoRoot, "src", "Backprop.Runtime", "Backprop.Runtime.csproj"));
        Assert.DoesNotContain("plugins/", project);
    }

    [Fact]
    public void Core_ops_are_loaded_from_the_plugins_folder_not_referenced()
    {
        var core = Assert.Single(TestEnv.Runtime.Plugins, p => p.Name == "Ops.Core");
        Assert.Contains(Path.Combine("plugins", "Ops.Core", "Ops.Core.dll"), core.Path);
        Assert.DoesNotContain(typeof(ArchitectureTests).Assembly.GetReferencedAssemblies(), a => a.Name == "Ops.Core");
    }

    [GeneratedRegex("\"([A-Za-z]+)\"")]
    private static partial Regex StringLiteral();
}
