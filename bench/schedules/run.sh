#!/usr/bin/env bash
# 1,000 schedules due in the same minute, on SQLite (one server) and PostgreSQL (two servers), and a
# smaller number with real run submissions. See bench/README.md ("schedules").
#   BENCH_SCHEDULES=1000 BENCH_REAL=50 bash bench/schedules/run.sh [sqlite|postgres-2|real-submit]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
[ -f dist/cli.cjs ] || npm run build --silent
if [ -z "${SLIPWAY_TEST_PG_URL:-}" ]; then
  services="$(mktemp -d /tmp/slipway-bench-pg.XXXXXX)"; chmod 755 "$services"
  trap 'scripts/services/postgres.sh stop "$services/pg" >/dev/null 2>&1 || true; rm -rf "$services"' EXIT
  export "$(scripts/services/postgres.sh start "$services/pg")"
fi
echo "load: $(cut -d' ' -f1-3 /proc/loadavg), cores: $(nproc)"
node --import tsx bench/schedules/bench.ts "$@"
