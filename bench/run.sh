#!/usr/bin/env bash
# Runs Backprop's benchmarks and the TorchSharp side in the same session and writes bench/RESULTS.md.
# Usage: bench/run.sh [BenchmarkDotNet filter, default '*']
# The TorchSharp project restores TorchSharp-cpu 0.107.0 (~1.4 GB) on first use; it is never part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
filter=${1:-*}
artifacts=BenchmarkDotNet.Artifacts/results
rm -rf BenchmarkDotNet.Artifacts

dotnet build bench/Backprop.Bench -c Release -v q
dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll --filter "$filter"

dotnet build bench/Backprop.Bench.Torch -c Release -v q
# libLibTorchSharp.so asks for GLIBCXX_3.4.32; Debian 12 has 3.4.30 and the symbol behind it is never called.
python3 ../shared/tools/elf-weak-verneed.py bench/Backprop.Bench.Torch/bin/Release/net10.0/runtimes/linux-x64/native/libLibTorchSharp.so
# libtorch's CPU allocator mallocs and frees every activation. By default glibc serves blocks above 128 KiB-32 MiB
# (its threshold adapts) with mmap and hands them back on free, so every step faults them in again, at ~4.7 µs a page on
# this VM (docs/performance.md). Told to keep its memory, glibc behaves as a caching allocator would; the TorchSharp side
# runs with these settings so that its figures measure libtorch's kernels, not this VM's page faults.
torch_env=(MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_TOP_PAD_=268435456)
env "${torch_env[@]}" dotnet bench/Backprop.Bench.Torch/bin/Release/net10.0/Backprop.Bench.Torch.dll --filter "$filter"
# Both fine-tuning steps again, alternating in one process (see Interleaved.cs), on full runs.
if [ "$filter" = "*" ]; then
  env "${torch_env[@]}" dotnet bench/Backprop.Bench.Torch/bin/Release/net10.0/Backprop.Bench.Torch.dll --interleaved 10
fi

python3 bench/report.py "$artifacts" > bench/RESULTS.md
echo "wrote bench/RESULTS.md"
