#!/usr/bin/env bash
# Server CPU time per request: the same load as run.sh (wrk, POST of one iris row), but measured as the
# CPU time (user + system, from /proc/PID/stat) the server process spent per answered request, for the
# Slipway gateway and for the bare Node server. On a shared machine, requests/s move with everyone
# else's load; CPU per request moves much less, so it is the figure to compare two builds with.
#   bash bench/serving/cpu.sh [ROOT]      # ROOT: the checkout whose bin/ and dist/ to measure (default: this one)
# Knobs: BENCH_ROUNDS (5), BENCH_DURATION (5s), BENCH_CONNECTIONS (16).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "${1:-$HERE/../..}" && pwd)"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
[ -f "$ROOT/dist/cli.cjs" ] || (cd "$ROOT" && npm run build --silent)
ROUNDS="${BENCH_ROUNDS:-5}"; DURATION="${BENCH_DURATION:-5s}"; CONNECTIONS="${BENCH_CONNECTIONS:-16}"
WORK="$(mktemp -d)"
export SLIPWAY_HOME="$WORK/home" SLIPWAY_SERVER_PORT=0 NO_COLOR=1
S="node $ROOT/bin/slipway.cjs --project $WORK/quickstart"
BARE_PID=""
cleanup() { [ -n "$BARE_PID" ] && kill "$BARE_PID" 2>/dev/null; node "$ROOT/bin/slipway.cjs" server stop >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT

cp -r "$HERE/../../examples/quickstart" "$WORK/quickstart"
ln -s "$ROOT/node_modules" "$WORK/quickstart/node_modules"
$S deploy --phase 1 --yes >/dev/null
$S run train_iris --wait >/dev/null
$S deploy --yes >/dev/null
export TOKEN; TOKEN=$($S tokens create --user "${USER:-root}" --json | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).token)')
GW=$($S endpoints list --json | node -e 'console.log(JSON.parse(require("fs").readFileSync(0))[0].url)')
GW_PID=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).pid)' "$SLIPWAY_HOME/server.json")
BARE_PORT=$(mktemp); node "$HERE/bare-server.mjs" 0 > "$BARE_PORT" & BARE_PID=$!
for _ in $(seq 50); do [ -s "$BARE_PORT" ] && break; sleep 0.05; done
BARE="http://127.0.0.1:$(cat "$BARE_PORT")/"

ticks() { awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
# One measurement: CPU µs per request of process $1 under wrk on URL $2.
measure() {
  local before after out requests
  before=$(ticks "$1")
  out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s "$HERE/post.lua" "$2")
  after=$(ticks "$1")
  requests=$(echo "$out" | awk '/requests in/ { print $1 }')
  echo "$out" | grep -q "Non-2xx" && { echo "non-2xx answers from $2" >&2; exit 1; }
  node -e 'const [t, hz, n] = process.argv.slice(1).map(Number); console.log((t / hz * 1e6 / n).toFixed(2), n)' "$((after - before))" "$HZ" "$requests"
}
wrk -t1 -c"$CONNECTIONS" -d2s -s "$HERE/post.lua" "$GW" >/dev/null   # warm-up
wrk -t1 -c"$CONNECTIONS" -d2s -s "$HERE/post.lua" "$BARE" >/dev/null
echo "root: $ROOT ($(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo 'no git'))"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "round  gateway_us_per_req  gateway_requests  bare_us_per_req  bare_requests"
for i in $(seq "$ROUNDS"); do
  read -r g gn < <(measure "$GW_PID" "$GW")
  read -r b bn < <(measure "$BARE_PID" "$BARE")
  echo "$i  $g  $gn  $b  $bn"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
