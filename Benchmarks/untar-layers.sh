#!/usr/bin/env bash
# The floor for unpacking: plain GNU tar extracting each layer in order into one folder,
# keeping owners and modes (no digests, no whiteouts, no safety checks).
#   Benchmarks/untar-layers.sh OUT LAYER...
set -euo pipefail
out=$1; shift
mkdir -p "$out"
for layer in "$@"; do
  tar --same-owner -p -xzf "$layer" -C "$out"
done
