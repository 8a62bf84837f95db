#!/usr/bin/env bash
# The gateway hot path of one or more builds, in-process, in turns (see hotpath.mjs): CPU µs per request.
#   bash bench/serving/hotpath.sh                      # this checkout
#   bash bench/serving/hotpath.sh /tmp/base .          # compare builds (each ROOT needs dist/ and node_modules/)
# Knobs: ROUNDS (12); KINDS (comma-separated request kinds, default all); LOG=1 logs to a real inference table.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
[ $# -gt 0 ] || set -- "$ROOT"
[ -f "$ROOT/dist/cli.cjs" ] || (cd "$ROOT" && npm run build --silent)
WORK="$(mktemp -d)"
export SLIPWAY_HOME="$WORK/home" SLIPWAY_SERVER_PORT=0 NO_COLOR=1
trap 'node "$ROOT/bin/slipway.cjs" server stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
cp -r "$ROOT/examples/quickstart" "$WORK/quickstart"
ln -s "$ROOT/node_modules" "$WORK/quickstart/node_modules"
S="node $ROOT/bin/slipway.cjs --project $WORK/quickstart"
$S deploy --phase 1 --yes >/dev/null
$S run train_iris --wait >/dev/null
$S deploy --yes >/dev/null
node "$ROOT/bin/slipway.cjs" server stop >/dev/null
# The endpoint configuration deploy recorded (model folder, manifest, grants).
node -e '
const D = require(process.argv[1]); const d = new D(process.argv[2], { readonly: true });
const row = d.prepare("select outputs from resources where kind = ?").get("endpoint");
require("fs").writeFileSync(process.argv[3], JSON.stringify(JSON.parse(row.outputs).config));' "$ROOT/node_modules/better-sqlite3" "$SLIPWAY_HOME/state.db" "$WORK/config.json"
args=(); i=0
for r in "$@"; do d="$(cd "$r" && pwd)/dist"; [ -f "$d/serving/gateway.js" ] || { echo "no $d/serving/gateway.js (npm run build there)" >&2; exit 1; }; args+=("build$i=$d"); echo "build$i: $d"; i=$((i + 1)); done
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
(cd "$ROOT" && node "$HERE/hotpath.mjs" "$WORK/config.json" "${args[@]}")
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
