using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Backprop.Training;

/// <summary>A checkpoint file that is missing, truncated, corrupt or of another format.</summary>
public sealed class CheckpointException(string message, Exception? inner = null) : BackpropException(message, inner);

/// <summary>What a checkpoint holds: named tensors (parameters, buffers, optimizer state) and string metadata (step, RNG state, …).</summary>
/// <param name="Tensors">Tensors by name.</param>
/// <param name="Metadata">Free-form metadata.</param>
public sealed record CheckpointData(IReadOnlyDictionary<string, Tensor> Tensors, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// Checkpoint files. Layout: the 8-byte magic "BPCKPT01", a 4-byte little-endian header length, a UTF-8 JSON header
/// (metadata and, per tensor, name, dtype, dims, offset and length), the raw little-endian tensor data, and a SHA-256 of
/// everything before it. <see cref="Save(string, CheckpointData)"/> writes a temporary file beside the target, flushes it to disk and renames it
/// over the target, so the target is always either the old complete checkpoint or the new complete one.
/// </summary>
public static class Checkpoint
{
    private static readonly byte[] Magic = "BPCKPT01"u8.ToArray();

    /// <summary>Largest header accepted when loading (guards against absurd lengths in damaged files).</summary>
    public const int MaxHeaderBytes = 64 << 20;

    /// <summary>Writes <paramref name="data"/> to <paramref name="path"/> atomically (temporary file, flush to disk, rename).</summary>
    public static void Save(string path, CheckpointData data) => Save(path, data, null);

    /// <summary>As <see cref="Save(string, CheckpointData)"/>; <paramref name="wrap"/> lets tests interpose on the file stream.</summary>
    internal static void Save(string path, CheckpointData data, Func<Stream, Stream>? wrap) =>
        AtomicFile.Write(path, stream => Write(stream, data), wrap);

    /// <summary>Reads and verifies a checkpoint; any damage is a <see cref="CheckpointException"/> naming the file.</summary>
    public static CheckpointData Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException($"cannot read checkpoint '{path}': {e.Message}", e);
        }
        try
        {
            return Parse(bytes);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or OverflowException or InvalidOperationException or KeyNotFoundException or NullReferenceException)
        {
            throw new CheckpointException($"checkpoint '{path}' is damaged: {e.Message}", e);
        }
        catch (CheckpointException e)
        {
            throw new CheckpointException($"checkpoint '{path}' {e.Message}", e);
        }
    }

    private static void Write(Stream stream, CheckpointData data)
    {
        var entries = new List<TensorEntry>();
        long offset = 0;
        foreach (var (name, t) in data.Tensors)
        {
            var length = t.AsBytes().Length;
            entries.Add(new TensorEntry(name, t.DType.ToString(), t.Shape.Dims.ToArray(), offset, length));
            offset += length;
        }
        var header = JsonSerializer.SerializeToUtf8Bytes(new Header(new Dictionary<string, string>(data.Metadata), entries));
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Put(ReadOnlySpan<byte> b)
        {
            sha.AppendData(b);
            stream.Write(b);
        }
        Put(Magic);
        Span<byte> len = stackalloc byte[4];
        BitConverter.TryWriteBytes(len, header.Length);
        if (!BitConverter.IsLittleEndian) len.Reverse();
        Put(len);
        Put(header);
        foreach (var (_, t) in data.Tensors) Put(t.AsBytes());
        stream.Write(sha.GetHashAndReset());
    }

    private static CheckpointData Parse(byte[] bytes)
    {
        if (bytes.Length < Magic.Length + 4 + 32 || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new CheckpointException("is not a Backprop checkpoint (bad magic or too short).");
        var body = bytes.AsSpan(0, bytes.Length - 32);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - 32)))
            throw new CheckpointException("fails its checksum (truncated or corrupted).");
        var headerLength = BitConverter.ToInt32(bytes, Magic.Length);
        if (headerLength <= 0 || headerLength > MaxHeaderBytes || Magic.Length + 4L + headerLength > body.Length)
            throw new CheckpointException($"declares a header of {headerLength} bytes, which does not fit.");
        var header = JsonSerializer.Deserialize<Header>(body.Slice(Magic.Length + 4, headerLength))
            ?? throw new CheckpointException("has an empty header.");
        var dataStart = Magic.Length + 4 + headerLength;
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var e in header.Tensors)
        {
            if (!Enum.TryParse<DType>(e.DType, out var dtype)) throw new CheckpointException($"tensor '{e.Name}' has unknown dtype '{e.DType}'.");
            var shape = new Shape(e.Dims);
            var expected = (long)shape.Size * ElementSize(dtype);
            if (e.Length != expected || e.Offset < 0 || dataStart + e.Offset + e.Length > body.Length)
                throw new CheckpointException($"tensor '{e.Name}' ({dtype} {shape}) does not fit its recorded extent.");
            var t = Tensor.Empty(shape, dtype);
            Fill(t, body.Slice(dataStart + (int)e.Offset, (int)e.Length));
            tensors[e.Name] = t;
        }
        return new CheckpointData(tensors, header.Metadata);
    }

    private static int ElementSize(DType d) => d switch
    {
        DType.Float64 or DType.Int64 => 8,
        DType.Bool => 1,
        _ => 4,
    };

    private static void Fill(Tensor t, ReadOnlySpan<byte> raw)
    {
        switch (t.DType)
        {
            case DType.Float32: MemoryMarshal.Cast<byte, float>(raw).CopyTo(t.Span<float>()); break;
            case DType.Float64: MemoryMarshal.Cast<byte, double>(raw).CopyTo(t.Span<double>()); break;
            case DType.Int64: MemoryMarshal.Cast<byte, long>(raw).CopyTo(t.Span<long>()); break;
            default:
                var b = t.Span<bool>();
                for (var i = 0; i < raw.Length; i++) b[i] = raw[i] != 0;
                break;
        }
    }

    private sealed record Header(Dictionary<string, string> Metadata, List<TensorEntry> Tensors);

    private sealed record TensorEntry(string Name, string DType, int[] Dims, long Offset, long Length);
}
