using System.Globalization;
using System.Text.RegularExpressions;

namespace Backprop.Onnx.Tests;

/// <summary>
/// The plugin author's path, out of the repository tree: pack Abstractions, Runtime and Testing to a local feed, build
/// samples/Ops.Sample and a project made by the `dotnet new backprop-op` template against that feed, run
/// `backprop check-plugin` on both, and fine-tune the sample's custom-domain model with the plugin loaded.
/// </summary>
public partial class PluginSdkTests
{
    private static async Task<string> Run(string workingDirectory, string file, params string[] args)
    {
        var (exit, stdout, stderr) = await Tool.Process(TimeSpan.FromMinutes(10), workingDirectory, file, args);
        var output = stdout + stderr;
        Assert.True(exit == 0, $"{file} {string.Join(' ', args)} exited {exit}:\n{output}");
        return output;
    }

    [Fact]
    public async Task Sample_and_template_plugins_build_out_of_tree_pass_check_plugin_and_the_sample_model_fine_tunes()
    {
        var root = TestData.RepoRoot;
        var work = TestData.Temp();
        var feed = Path.Combine(work, "feed");
        var version = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);
        foreach (var project in new[] { "Backprop.Abstractions", "Backprop.Runtime", "Backprop.Testing" })
            await Run(root, "dotnet", "pack", Path.Combine(root, "src", project), "-c", Tool.Configuration, "--no-build", "-o", feed, $"-p:Version={version}", "-v", "q");
        File.WriteAllText(Path.Combine(work, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="backprop-test" value="{feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);

        // the sample, copied out of the tree as a third party would have it
        var sample = Path.Combine(work, "Ops.Sample");
        Directory.CreateDirectory(sample);
        foreach (var file in Directory.GetFiles(Path.Combine(root, "samples", "Ops.Sample"), "*.cs*"))
            File.Copy(file, Path.Combine(sample, Path.GetFileName(file)));
        await Run(sample, "dotnet", "build", "-c", "Release", $"-p:BackpropVersion={version}", "-v", "q");

        // a project from the template
        var hive = Path.Combine(work, "template-hive");
        await Run(work, "dotnet", "new", "install", Path.Combine(root, "templates", "Backprop.OpPlugin"), "--debug:custom-hive", hive);
        await Run(work, "dotnet", "new", "backprop-op", "-n", "AcmeOps", "-o", Path.Combine(work, "AcmeOps"), "--domain", "com.acme", "--backpropVersion", version, "--debug:custom-hive", hive);
        await Run(Path.Combine(work, "AcmeOps"), "dotnet", "build", "-c", "Release", "-v", "q");

        var sampleDll = Path.Combine(sample, "bin", "Release", "net10.0", "Ops.Sample.dll");
        var acmeDll = Path.Combine(work, "AcmeOps", "bin", "Release", "net10.0", "AcmeOps.dll");
        Assert.False(File.Exists(Path.Combine(sample, "bin", "Release", "net10.0", "Backprop.Abstractions.dll")), "the host provides Abstractions; the plugin must not carry a copy");
        var checkSample = await Run(work, "dotnet", Tool.Path, "check-plugin", sampleDll);
        Assert.Contains("ScaledSwish", checkSample);
        Assert.Contains("once-differentiable", checkSample);
        Assert.DoesNotContain("FAIL", checkSample);
        var checkAcme = await Run(work, "dotnet", Tool.Path, "check-plugin", acmeDll);
        Assert.Contains("com.acme::SoftCli", checkAcme);
        Assert.DoesNotContain("FAIL", checkAcme);

        // the author's own test project: one call of the packed conformance kit (which brings the standard ops along)
        var authorTests = Path.Combine(work, "AuthorTests");
        Directory.CreateDirectory(authorTests);
        File.WriteAllText(Path.Combine(authorTests, "AuthorTests.csproj"), $$"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><TargetFramework>net10.0</TargetFramework><ImplicitUsings>enable</ImplicitUsings><IsPackable>false</IsPackable></PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Backprop.Testing" Version="{{version}}" />
                <PackageReference Include="Microsoft.NET.Test.Sdk" Version="18.0.1" />
                <PackageReference Include="xunit" Version="2.9.3" />
                <PackageReference Include="xunit.runner.visualstudio" Version="3.1.5" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(authorTests, "ConformanceTests.cs"), $$"""
            public class ConformanceTests
            {
                [Xunit.Fact]
                public void Sample_ops_conform() => Backprop.Testing.PluginConformance.AssertConforms(@"{{sampleDll}}");
            }
            """);
        var authorRun = await Run(authorTests, "dotnet", "test", "-c", "Release");
        Assert.Contains("Passed!", authorRun);

        var model = Path.Combine(root, "samples", "Ops.Sample", "model");
        var tune = await Run(work, "dotnet", Tool.Path, "finetune", Path.Combine(model, "sample.onnx"), "--plugin", sampleDll,
            "--data", $"{Path.Combine(model, "x.npy")},{Path.Combine(model, "y.npy")}", "--epochs", "3", "--optimizer", "adam", "--lr", "0.03",
            "--seed", "1", "--out", Path.Combine(work, "tuned.onnx"));
        var losses = TrainLoss().Matches(tune).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(3, losses.Count);
        Assert.True(losses[2] < losses[0] / 2, $"the loss should fall: {string.Join(", ", losses)}");
        Assert.True(File.Exists(Path.Combine(work, "tuned.onnx")));
    }

    [GeneratedRegex(@"train loss ([0-9.]+)")]
    private static partial Regex TrainLoss();
}
