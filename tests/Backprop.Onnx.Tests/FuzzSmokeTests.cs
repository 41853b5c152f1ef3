namespace Backprop.Onnx.Tests;

/// <summary>
/// A bounded run of the importer fuzzer (tests/Backprop.Fuzz) and a replay of every input that once crashed or hung it.
/// Each runs as a child process, so a hang ends in a killed process and a failed test rather than a stuck test run.
/// </summary>
public class FuzzSmokeTests
{
    private static async Task<(int Exit, string Output)> Fuzz(params string[] args)
    {
        var dll = Tool.Built("tests/Backprop.Fuzz", "Backprop.Fuzz.dll");
        var (exit, stdout, stderr) = await Tool.Process(TimeSpan.FromMinutes(10), null, "dotnet", [dll, .. args]);
        return (exit, stdout + stderr);
    }

    [Fact]
    public async Task Twenty_thousand_mutated_models_end_in_the_typed_error_or_run_without_crash_or_hang()
    {
        var (exit, output) = await Fuzz("-n", "20000", "-s", "7", "--out", TestData.Temp());
        Assert.True(exit == 0, output);
        Assert.Contains("0 crashes, 0 slow", output);
    }

    [Fact]
    public async Task Every_input_that_once_failed_is_replayed_without_crash_or_hang()
    {
        var (exit, output) = await Fuzz("--replay", Path.Combine(TestData.RepoRoot, "tests", "fixtures", "fuzz", "regressions"));
        Assert.True(exit == 0, output);
        Assert.DoesNotContain("CRASH", output);
        Assert.True(output.Split('\n').Count(l => l.StartsWith("ok ", StringComparison.Ordinal)) >= 6, output);
    }
}
