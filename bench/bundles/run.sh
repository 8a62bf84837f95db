#!/usr/bin/env bash
# Bytes stored per change, this checkout against a baseline checkout (see bench/README.md).
#   BENCH_BASELINE=/path/to/checkout bash bench/bundles/run.sh
#   BENCH_BASELINE_REF=<commit> bash bench/bundles/run.sh     # makes the baseline checkout with git archive
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source=../lib/baseline.sh
source "$HERE/../lib/baseline.sh"
baseline_checkout "${BENCH_BASELINE_REF:-}" nobuild
trap baseline_cleanup EXIT
mkdir -p "$ROOT/bench/out"
cd "$ROOT"
node --import tsx "$HERE/run.mjs" | tee "$ROOT/bench/out/bundles.txt"
