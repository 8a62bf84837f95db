#!/usr/bin/env bash
# Bytes stored per revision when one setting of a 1,000-resource project changes (bench/README.md).
#   bash bench/revisions/run.sh [SETTINGS=1000] [ROUNDS=7]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$ROOT/bench/out"
cd "$ROOT"
node --import tsx bench/revisions/run.mjs "${1:-1000}" "${2:-7}" | tee "$ROOT/bench/out/revisions.txt"
