#!/usr/bin/env bash
# Gateway overhead: the ONNX iris endpoint through the Slipway gateway, against a bare Node HTTP server
# returning a constant JSON answer, and against onnxruntime called directly in a loop; all in one run,
# load from wrk on loopback. Also checks that inference logging at full load loses no rows.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
[ -f "$ROOT/dist/cli.cjs" ] || (cd "$ROOT" && npm run build --silent)
OUT="$ROOT/bench/out"; mkdir -p "$OUT"
DURATION="${BENCH_DURATION:-8s}"; CONNECTIONS="${BENCH_CONNECTIONS:-32}"
WORK="$(mktemp -d)"
export SLIPWAY_HOME="$WORK/home" SLIPWAY_SERVER_PORT=0 NO_COLOR=1
S="node $ROOT/bin/slipway.cjs --project $WORK/quickstart"
BARE_PID=""
cleanup() { [ -n "$BARE_PID" ] && kill "$BARE_PID" 2>/dev/null; node "$ROOT/bin/slipway.cjs" server stop >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT

cp -r "$ROOT/examples/quickstart" "$WORK/quickstart"
ln -s "$ROOT/node_modules" "$WORK/quickstart/node_modules"
$S deploy --phase 1 --yes >/dev/null
$S run train_iris --wait >/dev/null
$S deploy --yes >/dev/null
export TOKEN; TOKEN=$($S tokens create --user "${USER:-root}" --json | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).token)')
GW=$($S endpoints list --json | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).endpoints[0].url)')
MODEL=$(ls -d "$SLIPWAY_HOME"/models/quickstart/dev/iris/*/ | head -1)
curl -sf -X POST -H "Authorization: Bearer $TOKEN" -H "content-type: application/json" -d '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}' "$GW" >/dev/null

# In a session of its own, as the gateway (see throughput.sh: autogroup scheduling favours a server in wrk's session).
BARE_PORT=$(mktemp); setsid node "$HERE/bare-server.mjs" 0 > "$BARE_PORT" & BARE_PID=$!
for _ in $(seq 50); do [ -s "$BARE_PORT" ] && break; sleep 0.05; done
BARE="http://127.0.0.1:$(cat "$BARE_PORT")/"

run_wrk() { wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$HERE/post.lua" "$1"; }
one_by_one() { wrk -t1 -c1 -d"${BENCH_LATENCY_DURATION:-3s}" --latency -s "$HERE/post.lua" "$1"; }
run_wrk "$GW" >/dev/null 2>&1 || true                  # warm-up
one_by_one "$BARE" > "$OUT/serving-bare-c1.txt"         # latency without queueing: one request at a time
one_by_one "$GW" > "$OUT/serving-gateway-c1.txt"
sleep 0.3                                               # the log queue flushes every 20 ms
ROWS_BEFORE=$(node -e 'const D=require(process.argv[1]); const d=new D(process.argv[2],{readonly:true}); console.log(d.prepare("select count(*) n from inference").get().n)' "$ROOT/node_modules/better-sqlite3" "$SLIPWAY_HOME/inference.db")
run_wrk "$BARE" > "$OUT/serving-bare.txt"
run_wrk "$GW" > "$OUT/serving-gateway.txt"
node "$ROOT/bin/slipway.cjs" server stop >/dev/null     # flushes the inference log queue
ROWS_AFTER=$(node -e 'const D=require(process.argv[1]); const d=new D(process.argv[2],{readonly:true}); console.log(d.prepare("select count(*) n from inference").get().n)' "$ROOT/node_modules/better-sqlite3" "$SLIPWAY_HOME/inference.db")
(cd "$ROOT" && node "$HERE/onnx-direct.mjs" "$MODEL/model.onnx" 5) > "$OUT/serving-onnx.json"

node - "$OUT" "$ROWS_BEFORE" "$ROWS_AFTER" "$CONNECTIONS" "$DURATION" <<'JS' | tee "$OUT/serving.md"
const fs = require("fs");
const [out, before, after, conns, duration] = process.argv.slice(2);
const parse = (file) => {
  const t = fs.readFileSync(`${out}/${file}`, "utf8");
  const ms = (s) => (s.endsWith("us") ? parseFloat(s) / 1000 : s.endsWith("ms") ? parseFloat(s) : parseFloat(s) * 1000);
  const pct = (p) => ms(t.match(new RegExp(`\\s${p}%\\s+([\\d.]+\\w+)`))[1]);
  return { rps: parseFloat(t.match(/Requests\/sec:\s+([\d.]+)/)[1]), requests: Number(t.match(/(\d+) requests in/)[1]), errors: /Non-2xx|Socket errors/.test(t) ? t.match(/(Non-2xx or 3xx responses: \d+|Socket errors:.*)/)[1] : "none", p50: pct(50), p99: pct(99) };
};
const bare = parse("serving-bare.txt"), gw = parse("serving-gateway.txt");
const bare1 = parse("serving-bare-c1.txt"), gw1 = parse("serving-gateway-c1.txt");
const direct = JSON.parse(fs.readFileSync(`${out}/serving-onnx.json`, "utf8"));
const f = (n, d = 0) => n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
console.log(`wrk -t1 -c${conns} -d${duration} on 127.0.0.1, POST of one iris row; same run, same machine.\n`);
console.log("| server | requests/s | p50 ms | p99 ms | errors |");
console.log("|---|---:|---:|---:|---|");
console.log(`| bare Node HTTP server (constant JSON) | ${f(bare.rps)} | ${f(bare.p50, 3)} | ${f(bare.p99, 3)} | ${bare.errors} |`);
console.log(`| Slipway gateway, ONNX iris endpoint (auth, parse, onnxruntime, inference log) | ${f(gw.rps)} | ${f(gw.p50, 3)} | ${f(gw.p99, 3)} | ${gw.errors} |`);
console.log(`| onnxruntime direct, one row per call, in a loop (no HTTP) | ${f(direct.per_second)} calls/s | ${f(direct.p50_ms, 3)} | ${f(direct.p99_ms, 3)} | - |`);
console.log(`| bare Node HTTP server, one connection | ${f(bare1.rps)} | ${f(bare1.p50, 3)} | ${f(bare1.p99, 3)} | ${bare1.errors} |`);
console.log(`| Slipway gateway, one connection | ${f(gw1.rps)} | ${f(gw1.p50, 3)} | ${f(gw1.p99, 3)} | ${gw1.errors} |`);
console.log("");
console.log(`- gateway throughput: ${f((100 * gw.rps) / bare.rps, 1)}% of the bare server (target: at least 60%)`);
console.log(`- latency the gateway adds at p50, one request at a time: ${f(gw1.p50 - bare1.p50 - direct.p50_ms, 3)} ms over the bare server plus the model call (target: under 1 ms)`);
const rows = Number(after) - Number(before);
// wrk counts the responses it read before its deadline; requests still in flight then (at most one per
// connection) are answered and logged too.
const ok = rows >= gw.requests && rows - gw.requests <= Number(conns);
console.log(`- inference log at full load: ${gw.requests} responses counted by wrk, ${rows} rows written (${ok ? `none lost; ${rows - gw.requests} answered after wrk's deadline` : "ROWS LOST"})`);
JS
