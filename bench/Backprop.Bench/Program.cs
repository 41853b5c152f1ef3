using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.NoEmit;

// In-process: the plugins folder beside this executable must be the one the runtime loads.
// Short runs (3 warm-ups, 3 iterations) keep the whole suite within minutes on 2 cores.
var config = DefaultConfig.Instance
    .AddJob(Job.ShortRun.WithToolchain(InProcessNoEmitToolchain.Instance))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(Backprop.Bench.TinyOpBenchmarks).Assembly).Run(args, config);
