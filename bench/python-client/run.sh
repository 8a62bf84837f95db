#!/usr/bin/env bash
# The Python client: scanning a project folder (cold, then with the in-memory index) and `status()`
# through a real server with the folder vs with the project's name. See bench/README.md ("python-client").
#   bash bench/python-client/run.sh [FILES=2000] [ROUNDS=15]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
[ -f dist/cli.cjs ] || npm run build --silent
PYTHONPATH="$ROOT/clients/python" PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$HERE/bench.py" "$@"
