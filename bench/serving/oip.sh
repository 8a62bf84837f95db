#!/usr/bin/env bash
# Open Inference Protocol through the real server under wrk: JSON requests against binary tensor data
# requests (as tritonclient.http sends them, outputs in binary), one row and ROWS_BIG rows per request,
# in turns, ROUNDS rounds; prints requests/s per round and the medians, with the load average.
# Knobs: ROUNDS (5), BENCH_DURATION (5s), BENCH_CONNECTIONS (32), ROWS_BIG (64).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
[ -f "$ROOT/dist/cli.cjs" ] || (cd "$ROOT" && npm run build --silent)
ROUNDS="${ROUNDS:-5}"; DURATION="${BENCH_DURATION:-5s}"; CONNECTIONS="${BENCH_CONNECTIONS:-32}"; ROWS_BIG="${ROWS_BIG:-64}"
WORK="$(mktemp -d)"
export SLIPWAY_HOME="$WORK/home" SLIPWAY_SERVER_PORT=0 NO_COLOR=1
S="node $ROOT/bin/slipway.cjs --project $WORK/quickstart"
trap 'node "$ROOT/bin/slipway.cjs" server stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
cp -r "$ROOT/examples/quickstart" "$WORK/quickstart"
ln -s "$ROOT/node_modules" "$WORK/quickstart/node_modules"
$S deploy --phase 1 --yes >/dev/null
$S run train_iris --wait >/dev/null
$S deploy --yes >/dev/null
export TOKEN; TOKEN=$($S tokens create --user "${USER:-root}" --json | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).token)')
BASE=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).url)' "$SLIPWAY_HOME/server.json")
URL="$BASE/v2/models/iris-dev/infer"
# The request bodies: JSON, and binary (JSON object as Python's json.dumps writes it, then float32 bytes).
node - "$WORK" "$ROWS_BIG" <<'JS'
const fs = require("fs");
const [dir, big] = process.argv.slice(2);
for (const n of [1, Number(big)]) {
  const rows = Array.from({ length: n }, (_, i) => [5.1, 3.5, 1.4, 0.2 + i / 100]).flat();
  fs.writeFileSync(`${dir}/json-${n}`, JSON.stringify({ inputs: [{ name: "X", shape: [n, 4], datatype: "FP32", data: rows }] }));
  const head = Buffer.from(`{"inputs": [{"name": "X", "shape": [${n}, 4], "datatype": "FP32", "parameters": {"binary_data_size": ${16 * n}}}], "parameters": {"binary_data_output": true}}`);
  fs.writeFileSync(`${dir}/binary-${n}`, Buffer.concat([head, Buffer.from(new Float32Array(rows).buffer)]));
  fs.writeFileSync(`${dir}/binary-${n}.len`, String(head.length));
}
JS
run() { # kind rows
  local len=""; [ "$1" = binary ] && len=$(cat "$WORK/binary-$2.len")
  BODY_FILE="$WORK/$1-$2" HEADER_LENGTH="$len" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s "$HERE/post-oip.lua" "$URL" > "$WORK/out"
  grep -q "Non-2xx" "$WORK/out" && { echo "$1-$2: non-2xx answers" >&2; cat "$WORK/out" >&2; exit 1; }
  awk '/Requests\/sec/ {print $2}' "$WORK/out"
}
echo "wrk -t1 -c$CONNECTIONS -d$DURATION, POST /v2/models/iris-dev/infer; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
BENCH_DURATION=2s run json 1 >/dev/null; run binary 1 >/dev/null   # warm-up
declare -A results
for r in $(seq "$ROUNDS"); do
  kinds=("json 1" "binary 1" "json $ROWS_BIG" "binary $ROWS_BIG")
  [ $((r % 2)) -eq 0 ] && kinds=("binary 1" "json 1" "binary $ROWS_BIG" "json $ROWS_BIG")
  for k in "${kinds[@]}"; do
    set -- $k; v=$(run "$1" "$2"); results["$1-$2"]+="$v "
    echo "round $r $1 rows=$2: $v req/s (load $(cut -d' ' -f1 /proc/loadavg))"
  done
done
for k in json-1 binary-1 "json-$ROWS_BIG" "binary-$ROWS_BIG"; do
  echo "$k: median $(echo ${results[$k]} | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}') req/s (${results[$k]})"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
