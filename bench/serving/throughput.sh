#!/usr/bin/env bash
# Gateway throughput against a bare Node server, interleaved: requests/s under `wrk -t4 -c64` (the
# load of issue 14) on the quickstart's ONNX iris endpoint, for one or more builds, and on the bare
# Node server (bare-server.mjs: a constant JSON answer) in the same rounds. Each round measures every
# server once, in an order that turns from round to round (A B bare, B bare A, bare A B, …), so each
# ratio compares measurements seconds apart; the figure is the median over rounds of
# gateway req/s / bare req/s of the same round. Prints the machine load (`uptime`) at start and end,
# and checks that every answered request has its inference row once the servers are stopped.
#   bash bench/serving/throughput.sh                  # this checkout
#   bash bench/serving/throughput.sh /tmp/base .      # two builds (each ROOT needs bin/, dist/, node_modules/)
# Knobs: BENCH_ROUNDS (7), BENCH_DURATION (5s), BENCH_THREADS (4), BENCH_CONNECTIONS (64).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
[ $# -gt 0 ] || set -- "$HERE/../.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
ROUNDS="${BENCH_ROUNDS:-7}"; DURATION="${BENCH_DURATION:-5s}"; THREADS="${BENCH_THREADS:-4}"; CONNECTIONS="${BENCH_CONNECTIONS:-64}"
WORK="$(mktemp -d)"
ROOTS=(); HOMES=(); TOKENS=(); URLS=(); ANSWERED=(); BARE_PID=""
stop_servers() { for i in "${!ROOTS[@]}"; do SLIPWAY_HOME="${HOMES[$i]}" node "${ROOTS[$i]}/bin/slipway.cjs" server stop >/dev/null 2>&1 || true; done; }
cleanup() { [ -n "$BARE_PID" ] && kill "$BARE_PID" 2>/dev/null; stop_servers; rm -rf "$WORK"; }
trap cleanup EXIT

# One gateway per build, each with its own SLIPWAY_HOME: deploy the quickstart, train, serve.
for arg in "$@"; do
  root="$(cd "$arg" && pwd)"; i=${#ROOTS[@]}
  [ -f "$root/dist/cli.cjs" ] || (cd "$root" && npm run build --silent)
  home="$WORK/home$i"; project="$WORK/quickstart$i"
  cp -r "$HERE/../../examples/quickstart" "$project"; ln -s "$root/node_modules" "$project/node_modules"
  S="env SLIPWAY_HOME=$home SLIPWAY_SERVER_PORT=0 NO_COLOR=1 node $root/bin/slipway.cjs --project $project"
  $S deploy --phase 1 --yes >/dev/null
  $S run train_iris --wait >/dev/null
  $S deploy --yes >/dev/null
  token=$($S tokens create --user "${USER:-root}" --json | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).token)')
  ROOTS+=("$root"); HOMES+=("$home"); TOKENS+=("$token"); ANSWERED+=(0)
  URLS+=("$($S endpoints list --json | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).endpoints[0].url)')")
done
BARE_PORT=$(mktemp); node "$HERE/bare-server.mjs" 0 > "$BARE_PORT" & BARE_PID=$!
for _ in $(seq 50); do [ -s "$BARE_PORT" ] && break; sleep 0.05; done
BARE="http://127.0.0.1:$(cat "$BARE_PORT")/"

# wrk on URL $1 with token $2 for $3: prints "requests/s answered".
measure() {
  local out
  out=$(TOKEN="$2" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$3" -s "$HERE/post.lua" "$1")
  if echo "$out" | grep -q "Non-2xx"; then echo "non-2xx answers from $1:" >&2; echo "$out" >&2; exit 1; fi
  echo "$(echo "$out" | awk '/Requests\/sec/ { print $2 }') $(echo "$out" | awk '/requests in/ { print $1 }')"
}
for i in "${!ROOTS[@]}"; do read -r _ n < <(measure "${URLS[$i]}" "${TOKENS[$i]}" 2s); ANSWERED[$i]=$((ANSWERED[$i] + n)); done   # warm-up
measure "$BARE" "" 2s >/dev/null

for i in "${!ROOTS[@]}"; do echo "build $i: ${ROOTS[$i]} ($(cd "${ROOTS[$i]}" && git rev-parse --short HEAD 2>/dev/null || echo 'not a git checkout'))"; done
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION per measurement, POST of one iris row; $ROUNDS rounds"
echo "uptime at start: $(uptime)"
N=${#ROOTS[@]}
echo "round  $(for i in "${!ROOTS[@]}"; do printf 'build%s_req/s  ' "$i"; done)bare_req/s  $(for i in "${!ROOTS[@]}"; do printf 'build%s/bare  ' "$i"; done)load"
results="$WORK/results"
for r in $(seq "$ROUNDS"); do
  declare -A got=()
  for k in $(seq 0 "$N"); do
    j=$(( (k + r - 1) % (N + 1) ))
    if [ "$j" -eq "$N" ]; then read -r rps _ < <(measure "$BARE" "" "$DURATION")
    else read -r rps n < <(measure "${URLS[$j]}" "${TOKENS[$j]}" "$DURATION"); ANSWERED[$j]=$((ANSWERED[$j] + n)); fi
    got[$j]="$rps"
  done
  line="$r"; for j in $(seq 0 "$N"); do line="$line  ${got[$j]}"; done
  for j in $(seq 0 $((N - 1))); do
    ratio=$(node -e 'console.log((100 * process.argv[1] / process.argv[2]).toFixed(1))' "${got[$j]}" "${got[$N]}")
    line="$line  $ratio%"; echo "$j ${got[$j]} $ratio" >> "$results"
  done
  echo "bare ${got[$N]}" >> "$results"
  echo "$line  $(cut -d' ' -f1 /proc/loadavg)"
done
echo "uptime at end: $(uptime)"
node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split(" "));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const by = {};
for (const [k, rps, ratio] of rows) { const b = (by[k] ??= { rps: [], ratio: [] }); b.rps.push(Number(rps)); if (ratio) b.ratio.push(Number(ratio)); }
for (const [k, v] of Object.entries(by)) {
  if (k === "bare") console.log(`bare Node server: median ${median(v.rps).toFixed(0)} req/s`);
  else console.log(`build ${k}: median ${median(v.rps).toFixed(0)} req/s; gateway/bare of the same round: median ${median(v.ratio).toFixed(1)}% (min ${Math.min(...v.ratio).toFixed(1)}%, max ${Math.max(...v.ratio).toFixed(1)}%)`);
}' "$results"

# Every answered request has its row: stop the servers (a stop writes what is queued), then count.
stop_servers
for i in "${!ROOTS[@]}"; do
  rows=$(node -e 'const D=require(process.argv[1]); const d=new D(process.argv[2],{readonly:true}); console.log(d.prepare("select count(*) n from inference").get().n)' "${ROOTS[$i]}/node_modules/better-sqlite3" "${HOMES[$i]}/inference.db")
  dropped=$( (grep -ho "dropped [0-9]* row" "${HOMES[$i]}/logs/server.log" 2>/dev/null || true) | awk "{ s += \$2 } END { print s + 0 }")
  # wrk counts the answers it read before its deadline; requests in flight then (at most one per
  # connection and measurement) are answered and logged too.
  verdict="none lost"; [ "$rows" -lt "${ANSWERED[$i]}" ] && verdict="ROWS LOST"
  echo "build $i: ${ANSWERED[$i]} answers counted by wrk, $rows inference rows written, $dropped dropped by the log queue ($verdict)"
done
