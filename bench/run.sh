#!/usr/bin/env bash
# Runs every benchmark under bench/ (each one is bench/<name>/run.sh). Builds dist/ first if missing.
#   bash bench/run.sh            # all benchmarks
#   bash bench/run.sh engine     # only the named ones
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

# Build when dist/ is missing, or when the file the launcher imports (e.g. dist/cli.cjs) is.
ENTRY=$(grep -o '\.\./dist/[^"'"'"']*' "$ROOT/bin/slipway.cjs" | head -1 | sed 's|^\.\./||')
if [[ ! -d "$ROOT/dist" || -z "$ENTRY" || ! -f "$ROOT/$ENTRY" ]]; then
  echo "bench: dist/ is missing; building" >&2
  (cd "$ROOT" && npm run build)
fi

if [[ $# -gt 0 ]]; then names=("$@"); else
  names=()
  for f in "$HERE"/*/run.sh; do names+=("$(basename "$(dirname "$f")")"); done
fi

status=0
for name in "${names[@]}"; do
  echo "### bench: $name"
  if ! bash "$HERE/$name/run.sh"; then
    echo "bench: $name FAILED" >&2
    status=1
  fi
done
exit $status
