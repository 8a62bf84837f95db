#!/usr/bin/env bash
# The /apps/NAME/ route's overhead: a tiny Node app answering "ok" through the Slipway server (token
# checked, CAN_USE decided, headers rewritten, bodies streamed) against the same app started directly,
# with wrk on loopback. Both servers are single Node processes on the same machine.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
[ -f "$ROOT/dist/cli.cjs" ] || (cd "$ROOT" && npm run build --silent)
DURATION="${BENCH_DURATION:-8s}"; CONNECTIONS="${BENCH_CONNECTIONS:-32}"
WORK="$(mktemp -d)"
export SLIPWAY_HOME="$WORK/home" SLIPWAY_SERVER_PORT=0 NO_COLOR=1 SLIPWAY_USER=bench
S="node $ROOT/bin/slipway.cjs --project $WORK/p"
DIRECT_PID=""
cleanup() { [ -n "$DIRECT_PID" ] && kill "$DIRECT_PID" 2>/dev/null; $S destroy --yes >/dev/null 2>&1 || true; node "$ROOT/bin/slipway.cjs" server stop >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT

mkdir -p "$WORK/p/modules/m/app"
printf 'project: appbench\ninclude: [modules/*/module.yaml]\ntargets:\n  dev:\n    default: true\n' > "$WORK/p/slipway.yaml"
printf 'module: m\nresources:\n  apps:\n    hello:\n      source: app\n      command: node server.js\n' > "$WORK/p/modules/m/module.yaml"
echo 'require("node:http").createServer((q, r) => r.end("ok")).listen(Number(process.env.PORT), "127.0.0.1");' > "$WORK/p/modules/m/app/server.js"
$S deploy --yes >/dev/null
TOKEN=$($S tokens create --user bench --json | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).token)')
URL=$($S apps list --json | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).apps[0].url)')
curl -sf -H "Authorization: Bearer $TOKEN" "$URL" >/dev/null

DIRECT_PORT=$(node -e 'const s=require("net").createServer().listen(0,()=>{console.log(s.address().port);s.close()})')
(cd "$WORK/p/modules/m/app" && PORT=$DIRECT_PORT setsid node server.js) & DIRECT_PID=$!
until curl -sf "http://127.0.0.1:$DIRECT_PORT/" >/dev/null; do sleep 0.1; done

echo "direct (the app alone):"
wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$DIRECT_PORT/" | grep -E "Requests/sec|50%|99%|Non-2xx|Socket errors" || true
echo "through /apps/hello/ (sign-in, CAN_USE, proxy):"
wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$URL" | grep -E "Requests/sec|50%|99%|Non-2xx|Socket errors" || true
