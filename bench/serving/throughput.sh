#!/usr/bin/env bash
# Gateway throughput against bare Node servers, interleaved: requests/s under `wrk -t4 -c64` (the
# load of issue 14) on the quickstart's ONNX iris endpoint, for one or more builds, and in the same
# rounds on three raw baselines: a bare Node server answering a constant JSON body (bare-server.mjs), a
# bare Node server running the same ONNX model per request (bare-onnx-server.mjs: parse, onnxruntime,
# encode; what any server of this model must do, so the gateway's own overhead is what it adds to
# this), and the same with the gateway's dynamic batching (bare-onnx-batch-server.mjs).
# Each round measures every server once, in an order that turns from round to round, so each ratio
# compares measurements seconds apart; the figure is the median over rounds of gateway req/s /
# baseline req/s of the same round. Prints the machine load (`uptime`) at start and end, and checks
# that every answered request has its inference row once the servers are stopped (and how many rows
# the log dropped).
#   bash bench/serving/throughput.sh                  # this checkout
#   bash bench/serving/throughput.sh /tmp/base .      # two builds (each ROOT needs bin/, dist/, node_modules/)
# Knobs: BENCH_ROUNDS (7), BENCH_DURATION (5s), BENCH_THREADS (4), BENCH_CONNECTIONS (64);
# BENCH_BURN="5 10 20": also bare servers that spin that many µs of CPU per request (a calibration:
# what a given cost per request does to requests/s here, with wrk on the same cores).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
[ $# -gt 0 ] || set -- "$HERE/../.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
ROUNDS="${BENCH_ROUNDS:-7}"; DURATION="${BENCH_DURATION:-5s}"; THREADS="${BENCH_THREADS:-4}"; CONNECTIONS="${BENCH_CONNECTIONS:-64}"
WORK="$(mktemp -d)"
# Every server measured: label, URL, token ("" for bare ones), build index (-1 for bare ones).
LABELS=(); URLS=(); TOKENS=(); BUILD=(); BARE_PIDS=()
ROOTS=(); HOMES=(); ANSWERED=()
stop_servers() { for i in "${!ROOTS[@]}"; do SLIPWAY_HOME="${HOMES[$i]}" node "${ROOTS[$i]}/bin/slipway.cjs" server stop >/dev/null 2>&1 || true; done; }
cleanup() { for p in "${BARE_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; stop_servers; rm -rf "$WORK"; }
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
  ROOTS+=("$root"); HOMES+=("$home"); ANSWERED+=(0)
  LABELS+=("build$i"); BUILD+=("$i")
  TOKENS+=("$($S tokens create --user "${USER:-root}" --json | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).token)')")
  URLS+=("$($S endpoints list --json | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).endpoints[0].url)')")
done
# The bare server, and the calibration servers. Each runs in a session of its own (setsid), as the
# gateway does (deploy starts it detached): with the kernel's autogroup scheduling, a server in the
# load generator's session shares its CPU slice and is woken by it at once, and on a busy machine that
# alone made the bare server twice as fast as the same server in a session of its own.
for burn in 0 ${BENCH_BURN:-}; do
  port_file="$WORK/bare-$burn.port"
  setsid node "$HERE/bare-server.mjs" 0 "$burn" > "$port_file" & BARE_PIDS+=($!)
  for _ in $(seq 100); do [ -s "$port_file" ] && break; sleep 0.05; done
  # setsid runs node in place (a background job of a script leads no process group): $! is the server.
  grep -q bare-server.mjs "/proc/${BARE_PIDS[-1]}/cmdline" 2>/dev/null || { echo "the bare server is not pid ${BARE_PIDS[-1]} (setsid forked?)" >&2; exit 1; }
  LABELS+=("$([ "$burn" = 0 ] && echo bare || echo "bare+${burn}us")"); URLS+=("http://127.0.0.1:$(cat "$port_file")/"); TOKENS+=(""); BUILD+=(-1)
done
BARE=${#ROOTS[@]}   # index of the bare server in LABELS/URLS
# The bare server with the model call (bare-onnx-server.mjs): parse, onnxruntime, encode, nothing else.
# What a gateway cannot avoid doing per request; the gateway's own overhead is what it adds to this.
model="$(find "${HOMES[0]}" -name '*.onnx' -print -quit)"
[ -n "$model" ] || { echo "no .onnx model under ${HOMES[0]}" >&2; exit 1; }
port_file="$WORK/bare-onnx.port"
setsid node "$HERE/bare-onnx-server.mjs" 0 "$model" "${ROOTS[0]}" > "$port_file" & BARE_PIDS+=($!)
for _ in $(seq 200); do [ -s "$port_file" ] && break; sleep 0.05; done
[ -s "$port_file" ] || { echo "bare-onnx-server.mjs did not start" >&2; exit 1; }
LABELS+=("bare+onnx"); URLS+=("http://127.0.0.1:$(cat "$port_file")/"); TOKENS+=(""); BUILD+=(-1)
ONNX=$(( ${#LABELS[@]} - 1 ))
# The same with dynamic batching (bare-onnx-batch-server.mjs): the requests of one event-loop turn share
# one model call, as in the gateway. About the most a server of this model can answer here.
port_file="$WORK/bare-onnx-batch.port"
setsid node "$HERE/bare-onnx-batch-server.mjs" 0 "$model" "${ROOTS[0]}" > "$port_file" & BARE_PIDS+=($!)
for _ in $(seq 200); do [ -s "$port_file" ] && break; sleep 0.05; done
[ -s "$port_file" ] || { echo "bare-onnx-batch-server.mjs did not start" >&2; exit 1; }
LABELS+=("bare+onnx+batch"); URLS+=("http://127.0.0.1:$(cat "$port_file")/"); TOKENS+=(""); BUILD+=(-1)

# wrk on URL $1 with token $2 for $3: prints "requests/s answered".
measure() {
  local out
  out=$(TOKEN="$2" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$3" -s "$HERE/post.lua" "$1")
  if echo "$out" | grep -q "Non-2xx"; then echo "non-2xx answers from $1:" >&2; echo "$out" >&2; exit 1; fi
  echo "$(echo "$out" | awk '/Requests\/sec/ { print $2 }') $(echo "$out" | awk '/requests in/ { print $1 }')"
}
for s in "${!LABELS[@]}"; do   # warm-up
  read -r _ n < <(measure "${URLS[$s]}" "${TOKENS[$s]}" 2s)
  [ "${BUILD[$s]}" -ge 0 ] && ANSWERED[${BUILD[$s]}]=$((ANSWERED[${BUILD[$s]}] + n))
done

for i in "${!ROOTS[@]}"; do echo "build $i: ${ROOTS[$i]} ($(cd "${ROOTS[$i]}" && git rev-parse --short HEAD 2>/dev/null || echo 'not a git checkout'))"; done
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION per measurement, POST of one iris row; $ROUNDS rounds"
echo "uptime at start: $(uptime)"
N=${#LABELS[@]}
header="round"; for s in "${!LABELS[@]}"; do header="$header  ${LABELS[$s]}"; done
for s in "${!LABELS[@]}"; do [ "$s" -ne "$BARE" ] && header="$header  ${LABELS[$s]}/bare"; done
for s in "${!ROOTS[@]}"; do header="$header  ${LABELS[$s]}/bare+onnx"; done
echo "$header  load (req/s, then % of bare in the same round)"
results="$WORK/results"
for r in $(seq "$ROUNDS"); do
  declare -A got=()
  # The order turns each round: the first measurement of a round should not always fall on one server.
  for k in $(seq 0 $((N - 1))); do
    s=$(( (k + r - 1) % N ))
    read -r rps n < <(measure "${URLS[$s]}" "${TOKENS[$s]}" "$DURATION")
    [ "${BUILD[$s]}" -ge 0 ] && ANSWERED[${BUILD[$s]}]=$((ANSWERED[${BUILD[$s]}] + n))
    got[$s]="$rps"
  done
  line="$r"; for s in $(seq 0 $((N - 1))); do line="$line  ${got[$s]}"; done
  for s in $(seq 0 $((N - 1))); do
    [ "$s" -eq "$BARE" ] && { echo "${LABELS[$s]} ${got[$s]}" >> "$results"; continue; }
    ratio=$(node -e 'console.log((100 * process.argv[1] / process.argv[2]).toFixed(1))' "${got[$s]}" "${got[$BARE]}")
    line="$line  $ratio%"; echo "${LABELS[$s]} ${got[$s]} $ratio" >> "$results"
  done
  for s in "${!ROOTS[@]}"; do
    ratio=$(node -e 'console.log((100 * process.argv[1] / process.argv[2]).toFixed(1))' "${got[$s]}" "${got[$ONNX]}")
    line="$line  $ratio%"; echo "${LABELS[$s]}/bare+onnx ${got[$s]} $ratio" >> "$results"
  done
  echo "$line  $(cut -d' ' -f1 /proc/loadavg)"
done
echo "uptime at end: $(uptime)"
node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split(" "));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const by = {};
for (const [k, rps, ratio] of rows) { const b = (by[k] ??= { rps: [], ratio: [] }); b.rps.push(Number(rps)); if (ratio) b.ratio.push(Number(ratio)); }
for (const [k, v] of Object.entries(by)) {
  if (!v.ratio.length) console.log(`${k}: median ${median(v.rps).toFixed(0)} req/s`);
  else console.log(`${k}: median ${median(v.rps).toFixed(0)} req/s; % of ${k.endsWith("/bare+onnx") ? "bare+onnx" : "bare"} in the same round: median ${median(v.ratio).toFixed(1)}% (min ${Math.min(...v.ratio).toFixed(1)}%, max ${Math.max(...v.ratio).toFixed(1)}%)`);
}' "$results"

# Every answered request has its row: stop the servers (a stop writes what is queued), then count.
stop_servers
for i in "${!ROOTS[@]}"; do
  rows=$(node -e 'const D=require(process.argv[1]); const d=new D(process.argv[2],{readonly:true}); console.log(d.prepare("select count(*) n from inference").get().n)' "${ROOTS[$i]}/node_modules/better-sqlite3" "${HOMES[$i]}/inference.db")
  # The server logs what its inference log dropped when it stops (builds before the bounded queue drop nothing).
  dropped=$( (grep -ho "dropped [0-9]* row" "${HOMES[$i]}/logs/server.log" 2>/dev/null || true) | tail -1 | awk '{ print $2 + 0 }')
  # wrk counts the answers it read before its deadline; requests in flight then (at most one per
  # connection and measurement) are answered and logged too.
  verdict="none lost"; [ "$rows" -lt "${ANSWERED[$i]}" ] && verdict="ROWS LOST"
  echo "build $i: ${ANSWERED[$i]} answers counted by wrk, $rows inference rows written, ${dropped:-0} dropped by the log queue ($verdict)"
done
