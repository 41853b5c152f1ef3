using Backprop.Onnx.Proto;

namespace Backprop.Onnx;

/// <summary>Reads a tensor's external data, only from a regular file inside the model's folder, within that file's bounds.</summary>
internal static class ExternalData
{
    public static byte[] Read(TensorProto proto, string name, string? baseDirectory, long expectedBytes, ImportLimits limits)
    {
        if (baseDirectory is null) throw new OnnxImportException("uses external data, but the model was not loaded from a file.", tensor: name);
        if (proto.ExternalData.GroupBy(e => e.Key).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new OnnxImportException($"external_data key '{twice.Key}' appears {twice.Count()} times.", tensor: name);
        var entries = proto.ExternalData.ToDictionary(e => e.Key, e => e.Value);
        if (!entries.TryGetValue("location", out var location) || string.IsNullOrEmpty(location))
            throw new OnnxImportException("external data has no location.", tensor: name);
        if (Path.IsPathRooted(location) || location.Split('/', '\\').Contains(".."))
            throw new OnnxImportException($"external data location '{location}' must be a relative path inside the model's folder.", tensor: name);
        var root = Path.GetFullPath(baseDirectory);
        var full = Path.GetFullPath(Path.Combine(root, location));
        if (!full.StartsWith(root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new OnnxImportException($"external data location '{location}' leaves the model's folder.", tensor: name);
        var info = new FileInfo(full);
        if (!info.Exists) throw new OnnxImportException($"external data file '{location}' does not exist.", tensor: name);
        if (info.LinkTarget is not null)
        {
            var target = info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? "";
            if (!target.StartsWith(root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new OnnxImportException($"external data file '{location}' is a link leading outside the model's folder.", tensor: name);
        }
        var offset = entries.TryGetValue("offset", out var o) && long.TryParse(o, out var ov) ? ov : 0;
        var length = entries.TryGetValue("length", out var l) && long.TryParse(l, out var lv) ? lv : expectedBytes;
        if (offset < 0 || length < 0 || offset + length > info.Length)
            throw new OnnxImportException($"external data range offset {offset} length {length} exceeds '{location}' ({info.Length} bytes).", tensor: name);
        if (length < expectedBytes)
            throw new OnnxImportException($"external data holds {length} bytes but its dims need {expectedBytes}.", tensor: name);
        if (expectedBytes > limits.MaxInitializerBytes || expectedBytes > Array.MaxLength)
            throw new OnnxImportException($"external data of {expectedBytes} bytes exceeds the import limits.", tensor: name);
        using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read);
        stream.Seek(offset, SeekOrigin.Begin);
        var buffer = new byte[expectedBytes];
        stream.ReadExactly(buffer);
        return buffer;
    }
}
