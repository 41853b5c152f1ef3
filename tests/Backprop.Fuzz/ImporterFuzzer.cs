using System.Diagnostics;
using Backprop.Onnx;
using Backprop.Runtime;

namespace Backprop.Fuzz;

/// <summary>What a fuzzing run found.</summary>
/// <param name="Executions">Inputs tried.</param>
/// <param name="Rejected">Inputs refused with the typed import error.</param>
/// <param name="Ran">Inputs that imported and ran.</param>
/// <param name="Crashes">Inputs that raised anything else (file, exception).</param>
/// <param name="Slow">Inputs that took longer than the hang limit.</param>
/// <param name="Wrapped">Inputs rejected only by the importer's safety net (an internal exception wrapped as the typed error): to fix, not crashes.</param>
public sealed record FuzzReport(long Executions, long Rejected, long Ran, List<(byte[] Input, string Error)> Crashes, List<(byte[] Input, double Seconds)> Slow, List<(byte[] Input, string Error)> Wrapped);

/// <summary>Runs mutated models through parse → validate → bind → run; only <see cref="OnnxImportException"/> is an acceptable failure.</summary>
public static class ImporterFuzzer
{
    /// <summary>Seconds after which one execution counts as a hang.</summary>
    public const double HangSeconds = 5;

    /// <summary>Limits used while fuzzing: small enough that a mutated size fails fast instead of allocating gigabytes.</summary>
    public static readonly ImportLimits Limits = new() { MaxTensorElements = 1 << 24, MaxInitializerBytes = 256 << 20, MaxNodes = 10_000 };

    /// <summary>The input being executed and when it started (read by a watchdog: a hung execution cannot be aborted in-process).</summary>
    public static (byte[]? Input, long StartTicks) Current;

    public static FuzzReport Run(IReadOnlyList<Seed> corpus, long executions, int seed, Action<long, FuzzReport>? progress = null)
    {
        var rng = new Random(seed);
        var mutator = new Mutator(rng);
        var report = new FuzzReport(0, 0, 0, [], [], []);
        var (rejected, ran) = (0L, 0L);
        var workDir = Path.Combine(Path.GetTempPath(), "backprop-fuzz", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(workDir);
        for (long i = 0; i < executions; i++)
        {
            var s = corpus[rng.Next(corpus.Count)];
            var input = mutator.Mutate(s.Bytes, corpus);
            var clock = Stopwatch.StartNew();
            Current = (input, Stopwatch.GetTimestamp());
            switch (Execute(input, s.Inputs, workDir, out var error))
            {
                case Outcome.Rejected:
                    rejected++;
                    if (error is not null) report.Wrapped.Add((input, error));
                    break;
                case Outcome.Ran: ran++; break;
                default: report.Crashes.Add((input, error!)); break;
            }
            if (clock.Elapsed.TotalSeconds > HangSeconds) report.Slow.Add((input, clock.Elapsed.TotalSeconds));
            if (progress is not null && (i + 1) % 10_000 == 0) progress(i + 1, report with { Executions = i + 1, Rejected = rejected, Ran = ran });
        }
        return report with { Executions = executions, Rejected = rejected, Ran = ran };
    }

    public enum Outcome { Rejected, Ran, Crashed }

    /// <summary>Inputs made from the declared graph inputs (float ones normal, integers zero) when every dim is known and small.</summary>
    private static Dictionary<string, Tensor>? Synthesize(OnnxModel model)
    {
        var feeds = new Dictionary<string, Tensor>();
        var rng = new Random(0);
        foreach (var input in model.Inputs)
        {
            if (input.Dims is null || input.Dims.Any(d => d is null or < 0 or > (1 << 20)) || input.Dims.Aggregate(1L, (a, d) => a * d!.Value) > 1 << 20) return null;
            var shape = new Shape(input.Dims.Select(d => (int)d!.Value).ToArray());
            feeds[input.Name] = input.ElementType switch
            {
                "float" => Tensor.Normal(shape, rng),
                "double" => Tensor.Normal(shape, rng, dtype: DType.Float64),
                "int64" => Tensor.Zeros(shape, DType.Int64),
                "bool" => Tensor.Zeros(shape, DType.Bool),
                _ => null!,
            };
            if (feeds[input.Name] is null) return null;
        }
        return feeds;
    }

    /// <summary>One execution: import, and run on the seed's inputs when the graph still takes them.</summary>
    public static Outcome Execute(byte[] model, byte[][] inputs, string workDir, out string? error)
    {
        error = null;
        try
        {
            var proto = ModelReader.Parse(model, Limits, "fuzzed model");
            var imported = OnnxModel.FromProto(proto, new OnnxLoadOptions { Limits = Limits }, workDir);
            var feeds = new Dictionary<string, Tensor>();
            if (inputs.Length == 0 && Synthesize(imported) is { } made) feeds = made;
            else if (imported.Inputs.Count != inputs.Length) return Outcome.Ran;
            for (var k = 0; k < inputs.Length; k++)
                feeds[imported.Inputs[k].Name] = TensorConverter.ToTensor(Backprop.Onnx.Proto.TensorProto.Parser.ParseFrom(inputs[k]), Limits);
            using (GradMode.NoGrad()) imported.Run(feeds);
            return Outcome.Ran;
        }
        catch (OnnxImportException e)
        {
            if (e.InnerException is { } inner && inner is not BackpropException && inner is not Google.Protobuf.InvalidProtocolBufferException)
                error = $"{inner.GetType().FullName}: {inner.Message}\n{inner.StackTrace}";
            return Outcome.Rejected;
        }
        catch (Exception e)
        {
            // OutOfMemoryException included: a size the limits should have refused before allocating.
            error = $"{e.GetType().FullName}: {e.Message}\n{e.StackTrace}";
            return Outcome.Crashed;
        }
    }
}
