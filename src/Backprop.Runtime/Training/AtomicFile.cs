namespace Backprop.Training;

/// <summary>
/// Crash-safe file replacement: the content goes to a temporary file in the target's folder, is flushed to disk, and is then
/// renamed over the target (an atomic replace on POSIX and NTFS). Readers see the old complete file or the new complete one,
/// never a partial one; a failed write removes its temporary file and leaves the target untouched.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>, atomically.</summary>
    public static void Write(string path, Action<Stream> write) => Write(path, write, null);

    /// <summary>Deletes temporary files of earlier writes to the same target whose process no longer runs (it was killed mid-write).</summary>
    private static void RemoveStale(string dir, string target)
    {
        foreach (var file in Directory.EnumerateFiles(dir, $".{target}.*.tmp"))
        {
            var parts = Path.GetFileName(file)[(target.Length + 2)..].Split('.');
            if (parts.Length < 2 || !int.TryParse(parts[0], out var pid) || pid == Environment.ProcessId || Alive(pid)) continue;
            try
            {
                File.Delete(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // another writer may be cleaning up too; leave it
            }
        }
    }

    private static bool Alive(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    internal static void Write(string path, Action<Stream> write, Func<Stream, Stream>? wrap)
    {
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        RemoveStale(dir, Path.GetFileName(full));
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                var stream = wrap?.Invoke(file) ?? file;
                write(stream);
                stream.Flush();
                file.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(tmp);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // the original error matters more; a stray temporary file is named by its pattern
            }
            throw;
        }
    }
}
