using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Backprop.Onnx.Proto;
using Google.Protobuf;

namespace Backprop.Onnx;

/// <summary>ONNX TensorProto ↔ Backprop tensors. Integer types widen to int64, float16 to float32; sizes are checked first.</summary>
public static class TensorConverter
{
    /// <summary>Reads a tensor; <paramref name="baseDirectory"/> resolves external data (which must stay inside it).</summary>
    public static Tensor ToTensor(TensorProto proto, ImportLimits? limits = null, string? baseDirectory = null)
    {
        limits ??= ImportLimits.Default;
        var name = string.IsNullOrEmpty(proto.Name) ? "(unnamed)" : proto.Name;
        var dims = new int[proto.Dims.Count];
        long count = 1;
        for (var i = 0; i < dims.Length; i++)
        {
            var d = proto.Dims[i];
            if (d < 0) throw new OnnxImportException($"dimension {i} is negative ({d}).", tensor: name);
            if (d > int.MaxValue) throw new OnnxImportException($"dimension {i} ({d}) exceeds {int.MaxValue}.", tensor: name);
            dims[i] = (int)d;
            count = count * d;
            if (count > limits.MaxTensorElements || count < 0)
                throw new OnnxImportException($"declares more than {limits.MaxTensorElements} elements (dims [{string.Join(", ", proto.Dims)}]); raise ImportLimits.MaxTensorElements if this is intended.", tensor: name);
        }
        var shape = new Shape(dims);
        var n = (int)count;
        var type = (TensorProto.Types.DataType)proto.DataType;
        var raw = proto.RawData;
        if (proto.DataLocation == TensorProto.Types.DataLocation.External)
            raw = ByteString.CopyFrom(ExternalData.Read(proto, name, baseDirectory, ElementSize(type, name) * count, limits));
        var hasRaw = raw.Length > 0 || proto.DataLocation == TensorProto.Types.DataLocation.External;

        switch (type)
        {
            case TensorProto.Types.DataType.Float:
                return hasRaw ? FromRaw<float>(raw, n, 4, shape, name) : Typed(proto.FloatData, n, shape, name, v => v);
            case TensorProto.Types.DataType.Double:
                return hasRaw ? FromRaw<double>(raw, n, 8, shape, name) : Typed(proto.DoubleData, n, shape, name, v => v);
            case TensorProto.Types.DataType.Int64:
                return hasRaw ? FromRaw<long>(raw, n, 8, shape, name) : Typed(proto.Int64Data, n, shape, name, v => v);
            case TensorProto.Types.DataType.Int32:
            case TensorProto.Types.DataType.Int16:
            case TensorProto.Types.DataType.Int8:
            case TensorProto.Types.DataType.Uint16:
            case TensorProto.Types.DataType.Uint8:
            case TensorProto.Types.DataType.Bool:
            {
                var size = ElementSize(type, name);
                long[] values;
                if (hasRaw)
                {
                    Need(raw.Length, (long)n * size, name);
                    var span = raw.Span;
                    values = new long[n];
                    for (var i = 0; i < n; i++) values[i] = ReadInt(span.Slice(i * size, size), type);
                }
                else
                {
                    Need(proto.Int32Data.Count, n, name, "int32_data");
                    values = proto.Int32Data.Take(n).Select(v => (long)v).ToArray();
                }
                if (type == TensorProto.Types.DataType.Bool)
                    return new Tensor(values.Select(v => v != 0).ToArray(), shape);
                return new Tensor(values, shape);
            }
            case TensorProto.Types.DataType.Uint32:
            case TensorProto.Types.DataType.Uint64:
            {
                var size = ElementSize(type, name);
                var values = new long[n];
                if (hasRaw)
                {
                    Need(raw.Length, (long)n * size, name);
                    for (var i = 0; i < n; i++)
                        values[i] = size == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(raw.Span.Slice(i * 4, 4)) : checked((long)BinaryPrimitives.ReadUInt64LittleEndian(raw.Span.Slice(i * 8, 8)));
                }
                else
                {
                    Need(proto.Uint64Data.Count, n, name, "uint64_data");
                    for (var i = 0; i < n; i++) values[i] = checked((long)proto.Uint64Data[i]);
                }
                return new Tensor(values, shape);
            }
            case TensorProto.Types.DataType.Float16:
            {
                var values = new float[n];
                if (hasRaw)
                {
                    Need(raw.Length, (long)n * 2, name);
                    for (var i = 0; i < n; i++) values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(raw.Span.Slice(i * 2, 2));
                }
                else
                {
                    Need(proto.Int32Data.Count, n, name, "int32_data");
                    for (var i = 0; i < n; i++) values[i] = (float)BitConverter.UInt16BitsToHalf((ushort)proto.Int32Data[i]);
                }
                return new Tensor(values, shape);
            }
            default:
                throw new OnnxImportException($"data type {type} is not supported (Backprop reads float, double, float16, integer and bool tensors).", tensor: name);
        }
    }

    /// <summary>Writes a tensor as raw little-endian data (float32, float64, int64, bool).</summary>
    public static TensorProto ToProto(Tensor tensor, string name)
    {
        var proto = new TensorProto { Name = name };
        proto.Dims.AddRange(tensor.Shape.Dims.ToArray().Select(d => (long)d));
        proto.DataType = (int)(tensor.DType switch
        {
            DType.Float32 => TensorProto.Types.DataType.Float,
            DType.Float64 => TensorProto.Types.DataType.Double,
            DType.Int64 => TensorProto.Types.DataType.Int64,
            DType.Bool => TensorProto.Types.DataType.Bool,
            _ => throw new ArgumentOutOfRangeException(nameof(tensor)),
        });
        proto.RawData = BitConverter.IsLittleEndian
            ? ByteString.CopyFrom(tensor.AsBytes())
            : throw new PlatformNotSupportedException("Writing ONNX tensors needs a little-endian machine.");
        return proto;
    }

    internal static int ElementSize(TensorProto.Types.DataType type, string name) => type switch
    {
        TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Int32 or TensorProto.Types.DataType.Uint32 => 4,
        TensorProto.Types.DataType.Double or TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Uint64 => 8,
        TensorProto.Types.DataType.Int16 or TensorProto.Types.DataType.Uint16 or TensorProto.Types.DataType.Float16 => 2,
        TensorProto.Types.DataType.Int8 or TensorProto.Types.DataType.Uint8 or TensorProto.Types.DataType.Bool => 1,
        _ => throw new OnnxImportException($"data type {type} is not supported.", tensor: name),
    };

    private static long ReadInt(ReadOnlySpan<byte> b, TensorProto.Types.DataType type) => type switch
    {
        TensorProto.Types.DataType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(b),
        TensorProto.Types.DataType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(b),
        TensorProto.Types.DataType.Uint16 => BinaryPrimitives.ReadUInt16LittleEndian(b),
        TensorProto.Types.DataType.Int8 => (sbyte)b[0],
        _ => b[0],
    };

    private static Tensor FromRaw<T>(ByteString raw, int n, int size, Shape shape, string name) where T : unmanaged
    {
        Need(raw.Length, (long)n * size, name);
        var values = new T[n];
        raw.Span[..(n * size)].CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Reading ONNX raw data needs a little-endian machine.");
        return new Tensor(values, shape);
    }

    private static Tensor Typed<TIn, TOut>(IList<TIn> data, int n, Shape shape, string name, Func<TIn, TOut> map)
    {
        Need(data.Count, n, name, "typed data");
        var values = new TOut[n];
        for (var i = 0; i < n; i++) values[i] = map(data[i]);
        return new Tensor(values, shape);
    }

    private static void Need(long have, long need, string name, string what = "raw_data bytes")
    {
        if (have < need) throw new OnnxImportException($"holds {have} {what} but its dims need {need}.", tensor: name);
    }
}
