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
dotnet bench/Backprop.Bench.Torch/bin/Release/net10.0/Backprop.Bench.Torch.dll --filter "$filter"
# Both fine-tuning steps again, alternating in one process (see Interleaved.cs), on full runs.
if [ "$filter" = "*" ]; then
  dotnet bench/Backprop.Bench.Torch/bin/Release/net10.0/Backprop.Bench.Torch.dll --interleaved 10
fi

python3 bench/report.py "$artifacts" > bench/RESULTS.md
echo "wrote bench/RESULTS.md"
