#!/usr/bin/env bash
# Installs Intel MKL (Debian non-free libmkl-rt) so the tests exercise the Ops.Blas backend too.
# Safe to run repeatedly; does nothing when libmkl_rt.so is already present.
set -euo pipefail
if ls /usr/lib/x86_64-linux-gnu/libmkl_rt.so* >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then echo "install-mkl: not root, skipping (tests will use the managed GEMM only)"; exit 0; fi
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
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libmkl-rt >/dev/null
