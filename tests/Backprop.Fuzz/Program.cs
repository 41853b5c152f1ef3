using System.Globalization;
using Backprop.Fuzz;

// dotnet run -c Release --project tests/Backprop.Fuzz -- [-n EXECUTIONS] [-s SEED] [--out DIR]
long executions = 100_000;
var seed = 1;
string? outDir = null;
string? replay = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "-n": executions = long.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "-s": seed = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--out": outDir = args[++i]; break;
        case "--replay": replay = args[++i]; break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}
// Watchdog: an execution over the hang limit is saved and ends the run with exit code 3 (threads cannot be aborted).
new Thread(() =>
{
    while (true)
    {
        Thread.Sleep(500);
        var (input, start) = ImporterFuzzer.Current;
        if (input is null || System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds <= ImporterFuzzer.HangSeconds) continue;
        var dir = outDir ?? Path.GetTempPath();
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, $"hang-{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(input))[..16]}.onnx");
        File.WriteAllBytes(path, input);
        Console.WriteLine($"HANG: an execution ran over {ImporterFuzzer.HangSeconds} s; input saved to {path}");
        Environment.Exit(3);
    }
}) { IsBackground = true }.Start();
if (replay is not null)
{
    // Every saved input (crashes, hangs and safety-net catches found before) must now end in the importer's own typed error or run.
    var failures = 0;
    foreach (var file in Directory.GetFiles(replay, "*.onnx").Order(StringComparer.Ordinal))
    {
        var bytes = File.ReadAllBytes(file);
        ImporterFuzzer.Current = (bytes, System.Diagnostics.Stopwatch.GetTimestamp());
        var outcome = ImporterFuzzer.Execute(bytes, [], Path.GetTempPath(), out var err);
        if (outcome == ImporterFuzzer.Outcome.Crashed) { failures++; Console.WriteLine($"CRASH {Path.GetFileName(file)}: {err!.Split('\n')[0]}"); }
        else if (err is not null) { failures++; Console.WriteLine($"NET {Path.GetFileName(file)}: stopped only by the safety net: {err.Split('\n')[0]}"); }
        else Console.WriteLine($"ok {Path.GetFileName(file)}: {outcome}");
    }
    return failures == 0 ? 0 : 1;
}
var repo = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", ".."));
var corpus = Corpus.Load(Corpus.DefaultRoots(repo));
Console.WriteLine($"corpus: {corpus.Count} seed models; {executions:N0} executions, seed {seed}");
var clock = System.Diagnostics.Stopwatch.StartNew();

var report = ImporterFuzzer.Run(corpus, executions, seed, (n, r) =>
{
    if (n % 100_000 == 0) Console.WriteLine($"{n:N0} executions, {r.Rejected:N0} rejected, {r.Ran:N0} ran, {r.Crashes.Count} crashes, {r.Slow.Count} over {ImporterFuzzer.HangSeconds} s, {n / clock.Elapsed.TotalSeconds:F0}/s");
});
Console.WriteLine($"done: {report.Executions:N0} executions in {clock.Elapsed.TotalSeconds:F0} s; {report.Rejected:N0} rejected with the typed error, {report.Ran:N0} imported and ran, {report.Crashes.Count} crashes, {report.Slow.Count} slow, {report.Wrapped.Count} caught only by the safety net");
foreach (var (_, error) in report.Wrapped.GroupBy(c => c.Error.Split('\n')[1].Trim()).Select(g => g.First()).Take(20)) Console.WriteLine("NET " + error.Split('\n')[0] + " " + error.Split('\n')[1].Trim());
if (outDir is not null && (report.Crashes.Count > 0 || report.Slow.Count > 0 || report.Wrapped.Count > 0))
{
    Directory.CreateDirectory(outDir);
    foreach (var (input, error) in report.Crashes.Concat(report.Wrapped).Take(100))
    {
        var name = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(input))[..16];
        File.WriteAllBytes(Path.Combine(outDir, name + ".onnx"), input);
        File.WriteAllText(Path.Combine(outDir, name + ".txt"), error);
    }
    foreach (var (input, seconds) in report.Slow.Take(50))
        File.WriteAllBytes(Path.Combine(outDir, $"slow-{seconds:F0}s-{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(input))[..16]}.onnx"), input);
}
foreach (var (_, error) in report.Crashes.GroupBy(c => c.Error.Split('\n')[0]).Select(g => g.First()).Take(20)) Console.WriteLine("CRASH " + error.Split('\n')[0]);
return report.Crashes.Count == 0 && report.Slow.Count == 0 ? 0 : 1;
