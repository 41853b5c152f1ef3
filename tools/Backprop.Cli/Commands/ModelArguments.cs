using System.ComponentModel;
using Backprop.Onnx;
using Spectre.Console.Cli;

namespace Backprop.Cli.Commands;

/// <summary>Arguments shared by the commands that run a model.</summary>
internal class ModelSettings : CommandSettings
{
    [CommandArgument(0, "<MODEL>")]
    [Description("Path to an .onnx model.")]
    public string Model { get; init; } = "";

    [CommandOption("-i|--input <NAME=FILE>")]
    [Description("A graph input as a serialized ONNX TensorProto file (repeatable).")]
    public string[] Inputs { get; init; } = [];

    [CommandOption("-p|--plugin <PATH>")]
    [Description("Extra plugin file or folder to load (repeatable).")]
    public string[] Plugins { get; init; } = [];
}

/// <summary>Parses NAME=FILE pairs and reads the tensors, with one-line errors.</summary>
internal static class TensorArguments
{
    public static Dictionary<string, Tensor> Read(IEnumerable<string> pairs, string what)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0 || eq == pair.Length - 1) throw new CliException($"{what} '{pair}' must be NAME=FILE.");
            var name = pair[..eq];
            var file = pair[(eq + 1)..];
            if (result.ContainsKey(name)) throw new CliException($"{what} '{name}' is given twice.");
            result[name] = TensorConverter.ToTensor(ModelReader.ReadTensor(file));
        }
        return result;
    }

    public static void Write(string directory, IReadOnlyDictionary<string, Tensor> tensors)
    {
        Directory.CreateDirectory(directory);
        var index = 0;
        foreach (var (name, tensor) in tensors)
        {
            var file = Path.Combine(directory, $"output_{index++}_{Sanitize(name)}.pb");
            var temp = file + ".tmp";
            File.WriteAllBytes(temp, Google.Protobuf.MessageExtensions.ToByteArray(TensorConverter.ToProto(tensor, name)));
            File.Move(temp, file, overwrite: true);
        }
    }

    private static string Sanitize(string name) => new(name.Select(c => char.IsLetterOrDigit(c) || c is '_' or '-' or '.' ? c : '_').ToArray());
}

/// <summary>A user error with a one-line reason (non-zero exit, no stack trace).</summary>
internal sealed class CliException(string message) : Exception(message);
