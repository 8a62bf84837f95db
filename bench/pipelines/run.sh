#!/usr/bin/env bash
# A pipeline of 20 no-op stages: scheduling overhead per stage, in the foreground (the embedded CLI's
# path) and in the server's background loop, against a raw baseline. See bench/README.md ("pipelines").
#   BENCH_ROUNDS=7 bash bench/pipelines/run.sh
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg), cores: $(nproc)"
node --import tsx bench/pipelines/bench.ts
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
