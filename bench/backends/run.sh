#!/usr/bin/env bash
# No-op deploy and plan of 1,000 settings (1,010 resources) with the home's backends on PostgreSQL +
# S3 against SQLite + a folder (issue 17's performance list), whole processes, interleaved rounds.
# PostgreSQL and OpenStack Swift (s3api) are real servers started here on 127.0.0.1 in temp folders
# (scripts/services/postgres.sh, swift.sh; as root they are installed when missing) and stopped at the end.
#   bash bench/backends/run.sh            # 9 rounds
#   BENCH_ROUNDS=15 bash bench/backends/run.sh
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
[ -f dist/cli.cjs ] || npm run build --silent
mkdir -p bench/out
svc="$(mktemp -d "${TMPDIR:-/tmp}/slipway-bench-backends.XXXXXX")"
chmod 755 "$svc"
trap 'scripts/services/swift.sh stop "$svc/swift" >/dev/null 2>&1 || true; scripts/services/postgres.sh stop "$svc/pg" >/dev/null 2>&1 || true; rm -rf "$svc"' EXIT
while IFS= read -r line; do [[ "$line" == SLIPWAY_TEST_* ]] && export "${line?}"; done < <(scripts/services/postgres.sh start "$svc/pg")
while IFS= read -r line; do [[ "$line" == SLIPWAY_TEST_* ]] && export "${line?}"; done < <(scripts/services/swift.sh start "$svc/swift")
BENCH_DIR="$svc/work" node "$HERE/measure.mjs" | tee "$ROOT/bench/out/backends.md"
