#!/usr/bin/env bash
# Server CPU time per request: the same load as run.sh (wrk, POST of one iris row), measured as the CPU
# time (user + system, from /proc/PID/stat) the server process spent per answered request, for the
# Slipway gateway of one or more builds and for the bare Node server. On a shared machine requests/s
# move with everyone else's load; CPU per request moves less, and the builds are measured in turns
# (round 1: A, B, bare; round 2: A, B, bare; …) so each round sees about the same load.
#   bash bench/serving/cpu.sh                     # this checkout
#   bash bench/serving/cpu.sh /tmp/base .         # two builds (each ROOT needs bin/, dist/, node_modules/)
# Knobs: BENCH_ROUNDS (6), BENCH_DURATION (4s), BENCH_CONNECTIONS (16).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
[ $# -gt 0 ] || set -- "$HERE/../.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
ROUNDS="${BENCH_ROUNDS:-6}"; DURATION="${BENCH_DURATION:-4s}"; CONNECTIONS="${BENCH_CONNECTIONS:-16}"
WORK="$(mktemp -d)"
ROOTS=(); HOMES=(); TOKENS=(); URLS=(); PIDS=(); BARE_PID=""
cleanup() {
  [ -n "$BARE_PID" ] && kill "$BARE_PID" 2>/dev/null
  for i in "${!ROOTS[@]}"; do SLIPWAY_HOME="${HOMES[$i]}" node "${ROOTS[$i]}/bin/slipway.cjs" server stop >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# One gateway per build, each with its own SLIPWAY_HOME: deploy the quickstart, train, serve.
for arg in "$@"; do
  root="$(cd "$arg" && pwd)"; i=${#ROOTS[@]}
  [ -f "$root/dist/cli.cjs" ] || (cd "$root" && npm run build --silent)
  home="$WORK/home$i"; project="$WORK/quickstart$i"
  # Each build deploys its own quickstart (the example follows the configuration language of its build).
  example="$root/examples/quickstart"; [ -d "$example" ] || example="$HERE/../../examples/quickstart"
  cp -r "$example" "$project"; ln -s "$root/node_modules" "$project/node_modules"
  S="env SLIPWAY_HOME=$home SLIPWAY_SERVER_PORT=0 NO_COLOR=1 node $root/bin/slipway.cjs --project $project"
  $S deploy --phase 1 --yes >/dev/null
  $S run train_iris --wait >/dev/null
  $S deploy --yes >/dev/null
  token=$($S tokens create --user "${USER:-root}" --json | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).token)')
  ROOTS+=("$root"); HOMES+=("$home"); TOKENS+=("$token")
  URLS+=("$($S endpoints list --json | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).endpoints[0].url)')")
  PIDS+=("$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).pid)' "$home/server.json")")
done
# In a session of its own, as the gateway (see throughput.sh: autogroup scheduling favours a server in wrk's session).
BARE_PORT=$(mktemp); setsid node "$HERE/bare-server.mjs" 0 > "$BARE_PORT" & BARE_PID=$!
for _ in $(seq 50); do [ -s "$BARE_PORT" ] && break; sleep 0.05; done
BARE="http://127.0.0.1:$(cat "$BARE_PORT")/"

ticks() { awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
# CPU µs per request of process $1 under wrk on URL $2 (token $3), and the request count.
measure() {
  local before after out requests
  before=$(ticks "$1")
  out=$(TOKEN="$3" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s "$HERE/post.lua" "$2")
  after=$(ticks "$1")
  requests=$(echo "$out" | awk '/requests in/ { print $1 }')
  if echo "$out" | grep -q "Non-2xx"; then echo "non-2xx answers from $2" >&2; exit 1; fi
  node -e 'const [t, hz, n] = process.argv.slice(1).map(Number); console.log((t / hz * 1e6 / n).toFixed(2), n)' "$((after - before))" "$HZ" "$requests"
}
for i in "${!ROOTS[@]}"; do TOKEN="${TOKENS[$i]}" wrk -t1 -c"$CONNECTIONS" -d2s -s "$HERE/post.lua" "${URLS[$i]}" >/dev/null; done   # warm-up
wrk -t1 -c"$CONNECTIONS" -d2s -s "$HERE/post.lua" "$BARE" >/dev/null

for i in "${!ROOTS[@]}"; do echo "build $i: ${ROOTS[$i]} ($(cd "${ROOTS[$i]}" && git rev-parse --short HEAD 2>/dev/null || echo 'not a git checkout'))"; done
echo "wrk -t1 -c$CONNECTIONS -d$DURATION per measurement; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "round  $(for i in "${!ROOTS[@]}"; do printf 'build%s_us/req  build%s_req  ' "$i" "$i"; done)bare_us/req  bare_req"
results="$WORK/results"
N=${#ROOTS[@]}
for r in $(seq "$ROUNDS"); do
  # The order turns each round (A B bare, B bare A, bare A B, …): the first measurement of a round
  # tends to cost more, and that should not fall on one build.
  declare -A got=()
  for k in $(seq 0 "$N"); do
    j=$(( (k + r - 1) % (N + 1) ))
    if [ "$j" -eq "$N" ]; then read -r us n < <(measure "$BARE_PID" "$BARE" ""); echo "bare $us" >> "$results"
    else read -r us n < <(measure "${PIDS[$j]}" "${URLS[$j]}" "${TOKENS[$j]}"); echo "$j $us" >> "$results"; fi
    got[$j]="$us  $n"
  done
  line="$r"; for j in $(seq 0 "$N"); do line="$line  ${got[$j]}"; done
  echo "$line"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split(" "));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const by = {}; for (const [k, v] of rows) (by[k] ??= []).push(Number(v));
for (const [k, v] of Object.entries(by)) console.log(`median ${k === "bare" ? "bare Node server" : "build " + k}: ${median(v).toFixed(2)} µs CPU per request`);
' "$results"
