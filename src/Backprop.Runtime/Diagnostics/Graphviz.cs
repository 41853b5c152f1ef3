using System.ComponentModel;
using System.Diagnostics;

namespace Backprop.Diagnostics;

/// <summary>Raised when Graphviz is missing or fails to render.</summary>
public sealed class GraphvizException(string message) : BackpropException(message);

/// <summary>Renders DOT text with Graphviz's <c>dot</c> program (Debian package <c>graphviz</c>).</summary>
public static class Graphviz
{
    /// <summary>The <c>dot</c> executable: <c>BACKPROP_DOT</c> if set, else <c>dot</c> on the PATH.</summary>
    public static string Executable => Environment.GetEnvironmentVariable("BACKPROP_DOT") is { Length: > 0 } p ? p : "dot";

    /// <summary>True when <c>dot</c> can be started.</summary>
    public static bool IsAvailable()
    {
        try
        {
            Run(["-V"], null, TimeSpan.FromSeconds(10));
            return true;
        }
        catch (GraphvizException)
        {
            return false;
        }
    }

    /// <summary>
    /// Renders <paramref name="dot"/> into <paramref name="path"/>; the format comes from the extension (.svg, .png, .pdf).
    /// The file appears complete or not at all. Throws <see cref="GraphvizException"/> naming the cause.
    /// </summary>
    public static void Render(string dot, string path, TimeSpan? timeout = null)
    {
        var format = Path.GetExtension(path).TrimStart('.').ToLowerInvariant();
        if (format is not ("svg" or "png" or "pdf"))
            throw new GraphvizException($"cannot render '{path}': use .svg, .png, .pdf or .dot.");
        var full = Path.GetFullPath(path);
        var temporary = full + $".{Environment.ProcessId}.tmp";
        try
        {
            Run([$"-T{format}", "-o", temporary], dot, timeout ?? TimeSpan.FromMinutes(2));
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    private static void Run(string[] arguments, string? input, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(Executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new GraphvizException($"could not start '{Executable}'.");
        }
        catch (Win32Exception)
        {
            throw new GraphvizException($"Graphviz's '{Executable}' was not found; install it (Debian: apt-get install graphviz) or write .dot and render it elsewhere.");
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            if (input is not null) process.StandardInput.Write(input);
            process.StandardInput.Close();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new GraphvizException($"'{Executable}' did not finish within {timeout.TotalSeconds:0} s; the graph may be too large — collapse repeated blocks or select a subgraph.");
            }
            process.WaitForExit();
            _ = stdout.Result;
            if (process.ExitCode != 0)
                throw new GraphvizException($"'{Executable}' failed (exit {process.ExitCode}): {stderr.Result.Trim()}");
        }
    }
}
