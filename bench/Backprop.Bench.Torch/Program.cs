using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.NoEmit;

if (args is ["--interleaved", ..])
{
    Backprop.Bench.Torch.Interleaved.Run(args.Length > 1 ? int.Parse(args[1]) : 10, "BenchmarkDotNet.Artifacts/results");
    return;
}

// In-process so the patched libLibTorchSharp.so beside this executable is the one loaded (see bench/README.md).
var config = DefaultConfig.Instance
    .AddJob(Job.Default.WithToolchain(InProcessNoEmitToolchain.Instance))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(Backprop.Bench.Torch.TorchTinyOpBenchmarks).Assembly).Run(args, config);
