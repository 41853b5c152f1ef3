using Backprop.Onnx.Proto;
using Google.Protobuf;

namespace Backprop.Onnx;

/// <summary>Parses ONNX files with Google.Protobuf under a recursion limit; any malformation becomes an <see cref="OnnxImportException"/>.</summary>
public static class ModelReader
{
    /// <summary>Reads and parses a model file.</summary>
    public static ModelProto Read(string path, ImportLimits? limits = null)
    {
        limits ??= ImportLimits.Default;
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new OnnxImportException($"model file '{path}' does not exist.");
            if (info.Length > int.MaxValue) throw new OnnxImportException($"model file '{path}' is {info.Length} bytes; protobuf models are limited to 2 GiB (use external data).");
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException e)
        {
            throw new OnnxImportException($"cannot read model file '{path}': {e.Message}", inner: e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new OnnxImportException($"cannot read model file '{path}': {e.Message}", inner: e);
        }
        return Parse(bytes, limits, path);
    }

    /// <summary>Parses model bytes.</summary>
    public static ModelProto Parse(byte[] bytes, ImportLimits? limits = null, string source = "model")
    {
        limits ??= ImportLimits.Default;
        if (bytes.Length == 0) throw new OnnxImportException($"{source} is empty.");
        try
        {
            var input = CodedInputStream.CreateWithLimits(new MemoryStream(bytes, writable: false), bytes.Length, limits.MaxProtobufDepth);
            var model = ModelProto.Parser.ParseFrom(input);
            if (!input.IsAtEnd) throw new OnnxImportException($"{source} is not a valid ONNX protobuf: parsing stopped before the end of the file (not a model, or corrupt).");
            if (model.Graph is null) throw new OnnxImportException($"{source} is not an ONNX model: it has no graph (is it a protobuf of another kind?).");
            return model;
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxImportException($"{source} is not a valid ONNX protobuf (truncated or corrupt): {e.Message}", inner: e);
        }
    }

    /// <summary>Reads a serialized TensorProto file (as in the ONNX backend test data).</summary>
    public static TensorProto ReadTensor(string path, ImportLimits? limits = null)
    {
        limits ??= ImportLimits.Default;
        if (!File.Exists(path)) throw new OnnxImportException($"tensor file '{path}' does not exist.");
        try
        {
            var bytes = File.ReadAllBytes(path);
            var input = CodedInputStream.CreateWithLimits(new MemoryStream(bytes, writable: false), bytes.Length, limits.MaxProtobufDepth);
            return TensorProto.Parser.ParseFrom(input);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxImportException($"'{path}' is not a valid ONNX TensorProto: {e.Message}", inner: e);
        }
    }
}
