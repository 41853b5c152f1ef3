using PublicApiGenerator;

namespace Backprop.Tests.PublicApi;

/// <summary>
/// Approval test of the plugin contract: every plugin binary compiles against Backprop.Abstractions, so its public API
/// changes only on purpose. On a difference the test writes Backprop.Abstractions.received.txt beside the approved file;
/// review it, copy it over the approved file, and raise ContractVersion's major (and the assembly version) when the change
/// breaks existing plugins.
/// </summary>
public class PublicApiTests
{
    [Fact]
    public void Abstractions_public_api_matches_the_approved_file()
    {
        var api = typeof(Tensor).Assembly.GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false }).ReplaceLineEndings("\n");
        var folder = Path.Combine(TestEnv.RepoRoot, "tests", "Backprop.Runtime.Tests", "PublicApi");
        var approved = Path.Combine(folder, "Backprop.Abstractions.approved.txt");
        var received = Path.Combine(folder, "Backprop.Abstractions.received.txt");
        var expected = File.Exists(approved) ? File.ReadAllText(approved).ReplaceLineEndings("\n") : "";
        if (api == expected)
        {
            File.Delete(received);
            return;
        }
        File.WriteAllText(received, api);
        var firstDifference = api.Zip(expected).TakeWhile(p => p.First == p.Second).Count();
        var line = api[..Math.Min(firstDifference, api.Length)].Count(c => c == '\n') + 1;
        Assert.Fail($"The public API of Backprop.Abstractions changed (first difference near line {line}). Review {received}; if intended, " +
            $"copy it over {approved}, and raise ContractVersion.Major if existing plugins break.");
    }
}
