#!/usr/bin/env bash
# `status` and `plan` (nothing to change, 1,010 resources) embedded vs through a `slipway server`, same
# run, interleaved. See bench/README.md ("remote").
#   bash bench/remote/run.sh [N=1000] [ROUNDS=9]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
[ -f dist/cli.cjs ] || npm run build --silent
node bench/remote/bench.mjs "$@"
