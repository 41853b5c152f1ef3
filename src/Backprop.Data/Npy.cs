using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace Backprop.Data;

/// <summary>
/// NumPy .npy and .npz files (format versions 1–3, C order, little- or big-endian). float32 and int64 are read as they are;
/// float64, int32, uint8 and bool are converted (float64 → float32 for training, integers → int64).
/// </summary>
public static partial class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Largest array accepted, in elements (guards against absurd headers).</summary>
    public const long MaxElements = 1L << 31;

    /// <summary>Reads one .npy file.</summary>
    public static Tensor Load(string path)
    {
        using var stream = Open(path);
        return Read(stream, path);
    }

    /// <summary>Reads every array of an .npz archive by name (without the .npy suffix).</summary>
    public static Dictionary<string, Tensor> LoadArchive(string path)
    {
        using var stream = Open(path);
        try
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read);
            var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var entry in zip.Entries.Where(e => e.FullName.EndsWith(".npy", StringComparison.Ordinal)))
            {
                using var s = entry.Open();
                using var buffer = new MemoryStream();
                s.CopyTo(buffer);
                buffer.Position = 0;
                result[entry.FullName[..^4]] = Read(buffer, $"{path}:{entry.FullName}");
            }
            return result;
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException($"'{path}' is not a readable .npz (zip) archive: {e.Message}", e);
        }
    }

    /// <summary>Writes a tensor as .npy (version 1; float32, float64, int64 or bool).</summary>
    public static void Save(string path, Tensor tensor) =>
        Backprop.Training.AtomicFile.Write(path, s => Write(s, tensor));

    /// <summary>Writes a tensor as .npy to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, Tensor tensor)
    {
        var descr = tensor.DType switch { DType.Float32 => "<f4", DType.Float64 => "<f8", DType.Int64 => "<i8", _ => "|b1" };
        var shape = tensor.Rank == 1 ? $"({tensor.Shape[0]},)" : $"({string.Join(", ", tensor.Shape.ToArray())})";
        var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        var total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        stream.Write(Magic);
        stream.WriteByte(1);
        stream.WriteByte(0);
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length);
        stream.Write(len);
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(tensor.AsBytes());
    }

    private static FileStream Open(string path)
    {
        try
        {
            return File.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException($"cannot open '{path}': {e.Message}", e);
        }
    }

    private static Tensor Read(Stream stream, string name)
    {
        Span<byte> head = stackalloc byte[8];
        if (stream.ReadAtLeast(head, 8, throwOnEndOfStream: false) < 8 || !head[..6].SequenceEqual(Magic))
            throw new DataFormatException($"'{name}' is not a .npy file (bad magic).");
        var major = head[6];
        int headerLength;
        if (major == 1)
        {
            Span<byte> l = stackalloc byte[2];
            stream.ReadExactly(l);
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(l);
        }
        else if (major is 2 or 3)
        {
            Span<byte> l = stackalloc byte[4];
            stream.ReadExactly(l);
            headerLength = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(l), int.MaxValue);
        }
        else throw new DataFormatException($"'{name}': .npy format version {major} is not supported (1–3 are).");
        if (headerLength > 1 << 20) throw new DataFormatException($"'{name}': header of {headerLength} bytes is implausible.");
        var headerBytes = new byte[headerLength];
        if (stream.ReadAtLeast(headerBytes, headerLength, throwOnEndOfStream: false) < headerLength) throw new DataFormatException($"'{name}': truncated header.");
        var header = Encoding.UTF8.GetString(headerBytes);
        var descr = DescrPattern().Match(header);
        var shapeMatch = ShapePattern().Match(header);
        if (!descr.Success || !shapeMatch.Success) throw new DataFormatException($"'{name}': header '{header.Trim()}' lacks descr or shape.");
        if (FortranPattern().IsMatch(header)) throw new DataFormatException($"'{name}': Fortran-order arrays are not supported; save with numpy.ascontiguousarray.");
        var dims = shapeMatch.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => long.TryParse(d.TrimEnd('L'), out var v) && v >= 0 && v <= int.MaxValue ? (int)v : throw new DataFormatException($"'{name}': bad dimension '{d}'.")).ToArray();
        long count = 1;
        foreach (var d in dims)
        {
            count *= d;
            if (count > MaxElements) throw new DataFormatException($"'{name}': {string.Join("×", dims)} elements exceed the limit of {MaxElements}.");
        }
        var code = descr.Groups[1].Value;
        var (order, kind, size) = (code[0], code[1], int.Parse(code[2..], System.Globalization.CultureInfo.InvariantCulture));
        var bigEndian = order == '>' || (order == '=' && !BitConverter.IsLittleEndian);
        var raw = new byte[checked(count * size)];
        if (stream.ReadAtLeast(raw, raw.Length, throwOnEndOfStream: false) < raw.Length)
            throw new DataFormatException($"'{name}': the data is shorter than its shape {string.Join("×", dims)} of {code} needs.");
        var shape = dims.Length == 0 ? Shape.Scalar : new Shape(dims);
        return (kind, size) switch
        {
            ('f', 4) => new Tensor(Convert(raw, 4, bigEndian, (s) => BinaryPrimitives.ReadSingleLittleEndian(s)), shape),
            ('f', 8) => new Tensor(Convert(raw, 8, bigEndian, (s) => (float)BinaryPrimitives.ReadDoubleLittleEndian(s)), shape),
            ('i', 8) => new Tensor(Convert(raw, 8, bigEndian, BinaryPrimitives.ReadInt64LittleEndian), shape),
            ('i', 4) => new Tensor(Convert(raw, 4, bigEndian, (s) => (long)BinaryPrimitives.ReadInt32LittleEndian(s)), shape),
            ('u', 1) or ('i', 1) => new Tensor(Convert(raw, 1, false, (s) => kind == 'u' ? (long)s[0] : (sbyte)s[0]), shape),
            ('b', 1) => new Tensor(Convert(raw, 1, false, (s) => s[0] != 0), shape),
            _ => throw new DataFormatException($"'{name}': dtype '{code}' is not supported (float32/64, int8/32/64, uint8, bool are)."),
        };
    }

    private delegate T Reader<out T>(ReadOnlySpan<byte> bytes);

    private static T[] Convert<T>(byte[] raw, int size, bool bigEndian, Reader<T> read)
    {
        var result = new T[raw.Length / size];
        if (bigEndian && size > 1)
        {
            for (var i = 0; i < result.Length; i++) raw.AsSpan(i * size, size).Reverse();
        }
        for (var i = 0; i < result.Length; i++) result[i] = read(raw.AsSpan(i * size, size));
        return result;
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([<>|=][fiub]\d+)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*True")]
    private static partial Regex FortranPattern();
}
