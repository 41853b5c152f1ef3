using System.Reflection;
using Backprop.Onnx.Proto;
using Google.Protobuf;

namespace Backprop.Onnx.Tests;

/// <summary>Locations of test data and small helpers to build models in code.</summary>
internal static class TestData
{
    public static string RepoRoot =>
        typeof(TestData).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "RepoRoot").Value!;

    /// <summary>Backend node-test roots that exist here: the ONNX 1.22 copy beside the repo and Debian's libonnx-testdata.</summary>
    public static IEnumerable<(string Label, string Path)> NodeTestRoots()
    {
        var shared = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "onnx-backend-v1.22", "node"));
        if (Directory.Exists(shared)) yield return ("onnx 1.22", shared);
        foreach (var kind in new[] { "node", "simple", "pytorch-converted", "pytorch-operator" })
        {
            var debian = Path.Combine("/usr/share/libonnx-testdata/data", kind);
            if (Directory.Exists(debian)) yield return ($"debian libonnx-testdata 1.12 {kind}", debian);
        }
    }

    /// <summary>
    /// Checks a directional derivative against central differences of <paramref name="along"/> (ONNX Runtime, float32) at
    /// three steps: it must match the middle estimate within three times their spread — which bounds the oracle's own
    /// error — plus <paramref name="relative"/> of max(<paramref name="floor"/>, |estimate|).
    /// </summary>
    public static void AgreesWithCentralDifferences(double analytic, Func<double, double> along, double[] steps, double relative, double floor, string what)
    {
        var estimates = steps.Select(h => (along(h) - along(-h)) / (2 * h)).ToArray();
        var spread = estimates.Max() - estimates.Min();
        Assert.True(Math.Abs(analytic - estimates[1]) <= 3 * spread + relative * Math.Max(floor, Math.Abs(estimates[1])),
            $"{what} = {analytic}; ONNX Runtime finite differences {string.Join(", ", estimates)}");
    }

    /// <summary>A fresh folder under this test process's own temp root (removed when the process exits).</summary>
    public static string Temp()
    {
        var dir = Path.Combine(RunRoot.Value, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>
    /// backprop-tests/p{pid}: deleted at exit; on first use, roots of test processes that are gone (killed runs) and other
    /// folders older than an hour are deleted too, so repeated runs do not pile up gigabytes of models and checkpoints.
    /// </summary>
    private static readonly Lazy<string> RunRoot = new(() =>
    {
        var parent = Path.Combine(Path.GetTempPath(), "backprop-tests");
        Directory.CreateDirectory(parent);
        foreach (var stale in Directory.GetDirectories(parent))
        {
            var name = Path.GetFileName(stale);
            var keep = name.StartsWith('p') && int.TryParse(name.AsSpan(1), out var pid)
                ? IsRunning(pid)
                : Directory.GetLastWriteTimeUtc(stale) > DateTime.UtcNow.AddHours(-1); // other suites' folders, possibly in use
            if (keep) continue;
            try
            {
                Directory.Delete(stale, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        var root = Path.Combine(parent, $"p{Environment.ProcessId}");
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        };
        return root;
    });

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
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

    public static ValueInfoProto Value(string name, TensorProto.Types.DataType type, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }

    public static NodeProto Node(string op, string[] inputs, string[] outputs, string name = "", params AttributeProto[] attributes)
    {
        var n = new NodeProto { OpType = op, Name = name };
        n.Input.AddRange(inputs);
        n.Output.AddRange(outputs);
        n.Attribute.AddRange(attributes);
        return n;
    }

    public static AttributeProto Ints(string name, params long[] values) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Ints, Ints = { values } };

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static ModelProto Model(GraphProto graph, int opset = 17)
    {
        var m = new ModelProto { IrVersion = 8, Graph = graph, ProducerName = "backprop-tests" };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return m;
    }

    public static TensorProto FloatTensor(string name, float[] values, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        t.FloatData.AddRange(values);
        return t;
    }

    public static byte[] Bytes(IMessage message) => message.ToByteArray();
}
