#!/usr/bin/env bash
# Installs the system packages the tests use, from Debian bookworm:
#   libmkl-rt (non-free)  — Intel MKL, so the tests exercise both GEMM backends (they pass without it too);
#   libonnx-testdata      — ONNX backend node tests 1.12 for the importer's conformance test;
#   graphviz              — `dot`, which renders `backprop graph` pictures as SVG/PNG (tests check the SVG).
# Safe to run repeatedly; installs only what is missing. Needs root (CI and developer machines run as root).
set -euo pipefail
need=()
ls /usr/lib/x86_64-linux-gnu/libmkl_rt.so* >/dev/null 2>&1 || need+=(libmkl-rt)
[ -d /usr/share/libonnx-testdata/data/node ] || need+=(libonnx-testdata)
command -v dot >/dev/null 2>&1 || need+=(graphviz)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then echo "install-deps: not root, cannot install ${need[*]}"; exit 0; fi
src=/etc/apt/sources.list.d/backprop-non-free.sources
if [ ! -f "$src" ]; then
  cat > "$src" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
