using System.Diagnostics;

namespace Backprop.Onnx.Tests;

/// <summary>Runs the built `backprop` tool (and other processes) as a user does, each under a time guard against hangs.</summary>
internal static class Tool
{
    /// <summary>The build configuration of this test assembly (bin/&lt;Configuration&gt;/net10.0), shared by its build dependencies.</summary>
    public static string Configuration => new DirectoryInfo(System.IO.Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent?.Name ?? "Release";

    public static string Path => Built("tools/Backprop.Cli", "backprop.dll");

    /// <summary>The assembly a build-dependency project of this test project produced; a failed assertion when it is missing.</summary>
    public static string Built(string project, string assembly)
    {
        var dll = System.IO.Path.Combine(TestData.RepoRoot, project, "bin", Configuration, "net10.0", assembly);
        Assert.True(File.Exists(dll), $"{assembly} was not built at {dll} (it is a build dependency of this test project)");
        return dll;
    }

    /// <summary>Runs the tool with <paramref name="args"/>.</summary>
    public static Task<(int Exit, string Stdout, string Stderr)> Run(TimeSpan limit, params string[] args) => Process(limit, null, "dotnet", [Path, .. args]);

    /// <summary>Runs the tool with <paramref name="args"/> and extra environment variables.</summary>
    public static Task<(int Exit, string Stdout, string Stderr)> Run(TimeSpan limit, IReadOnlyDictionary<string, string> environment, params string[] args) =>
        Start(limit, null, "dotnet", [Path, .. args], environment);

    /// <summary>Runs <paramref name="file"/>; a run over <paramref name="limit"/> is killed and fails the test.</summary>
    public static Task<(int Exit, string Stdout, string Stderr)> Process(TimeSpan limit, string? workingDirectory, string file, params string[] args) =>
        Start(limit, workingDirectory, file, args, null);

    private static async Task<(int Exit, string Stdout, string Stderr)> Start(TimeSpan limit, string? workingDirectory, string file, string[] args, IReadOnlyDictionary<string, string>? environment)
    {
        var info = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
        if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        using var process = System.Diagnostics.Process.Start(info)!;
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
            Assert.Fail($"{file} {string.Join(' ', args)} did not finish within {limit}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
