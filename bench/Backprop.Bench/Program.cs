using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.NoEmit;

// In-process: the plugins folder beside this executable must be the one the runtime loads.
var config = DefaultConfig.Instance
    .AddJob(Job.Default.WithToolchain(InProcessNoEmitToolchain.Instance))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(Backprop.Bench.TinyOpBenchmarks).Assembly).Run(args, config);
