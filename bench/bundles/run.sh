#!/usr/bin/env bash
# Incremental bundle benchmark (see bench/README.md).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
cd "$HERE/../.."
node --import tsx "$HERE/run.mjs"
