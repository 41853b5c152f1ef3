using System.Diagnostics;

namespace Backprop.Onnx.Tests;

/// <summary>Runs the built `backprop` tool as a separate process, as a user does.</summary>
internal static class Tool
{
    public static string Path
    {
        get
        {
            var configuration = new DirectoryInfo(System.IO.Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent?.Name ?? "Release"; // bin/<Configuration>/net10.0
            var dll = System.IO.Path.Combine(TestData.RepoRoot, "tools", "Backprop.Cli", "bin", configuration, "net10.0", "backprop.dll");
            Assert.True(File.Exists(dll), $"the backprop tool was not built at {dll} (it is a build dependency of this test project)");
            return dll;
        }
    }

    public static async Task<(int Exit, string Stdout, string Stderr)> Run(TimeSpan limit, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet", [Path, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"backprop {string.Join(' ', args)} did not finish within {limit}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
