#!/usr/bin/env bash
# Start-up (issue 14, item 3): whole-process medians of `node -e 0`, `bash -c true`, `slipway --version`,
# `--help`, `validate` and `run noop --wait` (a job whose command is `true`), for this checkout and a
# baseline checkout, interleaved in the same rounds (bench/startup/measure.mjs); plus, for this
# checkout (and the baseline when it has the hand-over), `run noop --wait` handed to the home's running
# server (a `slipway server` started on a home of its own, stopped at the end). See bench/README.md.
#   BENCH_BASELINE=DIR | BENCH_BASELINE_REF=COMMIT (default 915a622, before this work)
#   BENCH_ROUNDS=N (default 9); BENCH_LABEL names this checkout in the output (default: its commit)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
[ -f "$ROOT/dist/cli.cjs" ] || (cd "$ROOT" && npm run build --silent)
# shellcheck source=../lib/baseline.sh
source "$HERE/../lib/baseline.sh"
baseline_checkout "${BENCH_BASELINE_REF:-915a622}" build
OUT="$ROOT/bench/out"; mkdir -p "$OUT"
WORK="$(mktemp -d)"
SERVED_HOMES=() # HOME:CHECKOUT of each server started below, stopped at the end
stop_servers() {
  local s
  for s in "${SERVED_HOMES[@]}"; do
    [[ -f "${s%%:*}/server.json" ]] && SLIPWAY_HOME="${s%%:*}" node "${s#*:}/bin/slipway.cjs" server stop >/dev/null 2>&1 || true
  done
}
trap 'stop_servers; rm -rf "$WORK"; baseline_cleanup' EXIT
P="$WORK/project"; mkdir -p "$P/modules/m/src"
cat > "$P/slipway.yaml" <<'YAML'
project: launch
include: [modules/*/module.yaml]
targets:
  dev: {}
YAML
cat > "$P/modules/m/module.yaml" <<'YAML'
module: m
resources:
  jobs:
    noop:
      source: src
      command: "true"
YAML
for i in $(seq 20); do head -c 2048 /dev/urandom | base64 > "$P/modules/m/src/file$i.txt"; done
export NO_COLOR=1
spec="["
for side in baseline this; do
  if [[ $side == baseline ]]; then dir="$BENCH_BASELINE"; label="baseline"; else dir="$ROOT"; label="this checkout"; fi
  home="$WORK/home-$side"
  S=(node "$dir/bin/slipway.cjs")
  SLIPWAY_HOME="$home" "${S[@]}" --project "$P" deploy --yes >/dev/null   # run executes jobs deployed to the target
  SLIPWAY_HOME="$home" "${S[@]}" --project "$P" run noop --wait >/dev/null # the first run stores the bundle
  env="{\"SLIPWAY_HOME\":\"$home\"}"
  spec+="{\"name\":\"$label: \`slipway --version\`\",\"argv\":[\"$dir/bin/slipway.cjs\",\"--version\"],\"env\":$env},"
  spec+="{\"name\":\"$label: \`slipway --help\`\",\"argv\":[\"$dir/bin/slipway.cjs\",\"--help\"],\"env\":$env},"
  spec+="{\"name\":\"$label: \`slipway validate\`\",\"argv\":[\"$dir/bin/slipway.cjs\",\"validate\"],\"cwd\":\"$P\",\"env\":$env},"
  spec+="{\"name\":\"$label: \`slipway run noop --wait\`\",\"argv\":[\"$dir/bin/slipway.cjs\",\"run\",\"noop\",\"--wait\"],\"cwd\":\"$P\",\"env\":$env},"
done
# With the home's server running, `run` hands the launch to it (bin/run-handoff.cjs): this checkout,
# and the baseline too when it has the hand-over (BENCH_BASELINE_REF at or after it), each its own home.
served_row() { # SIDE DIR LABEL
  local home="$WORK/home-served-$1" S=(node "$2/bin/slipway.cjs")
  SERVED_HOMES+=("$home:$2")
  SLIPWAY_HOME="$home" "${S[@]}" --project "$P" deploy --yes >/dev/null
  SLIPWAY_HOME="$home" "${S[@]}" server --port 0 --no-bootstrap >"$WORK/server-$1.log" 2>&1 &
  for _ in $(seq 300); do grep -q '"build"' "$home/server.json" 2>/dev/null && break; sleep 0.1; done
  grep -q '"build"' "$home/server.json" || { echo "the server did not start: $(cat "$WORK/server-$1.log")" >&2; exit 1; }
  SLIPWAY_HOME="$home" "${S[@]}" --project "$P" run noop --wait >/dev/null # the first run stores the bundle, fills the server's compile cache
  spec+="{\"name\":\"$3, server running: \`slipway run noop --wait\`\",\"argv\":[\"$2/bin/slipway.cjs\",\"run\",\"noop\",\"--wait\"],\"cwd\":\"$P\",\"env\":{\"SLIPWAY_HOME\":\"$home\"}},"
}
if [[ -f "$BENCH_BASELINE/bin/run-handoff.cjs" ]]; then served_row baseline "$BENCH_BASELINE" baseline; fi
served_row this "$ROOT" "this checkout"
spec+='{"name":"`node -e 0`","argv":["node","-e","0"]},{"name":"bash -c true","argv":["bash","-c","true"]}]'
echo "$spec" > "$WORK/spec.json"
{
  echo "Machine: $(nproc) cores, $(node --version), $(uname -sr); $(date -u '+%Y-%m-%d %H:%M UTC'); this checkout ${BENCH_LABEL:-$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)$( (cd "$ROOT" && git diff --quiet HEAD 2>/dev/null) || echo '+changes')}, baseline ${BENCH_BASELINE_REF:-915a622}. NODE_EXTRA_CA_CERTS: ${NODE_EXTRA_CA_CERTS:-unset} (set, every Node process reads it as it starts). Commands run as installed: the bin file itself, through its #! line."
  node "$HERE/measure.mjs" "$WORK/spec.json" "${BENCH_ROUNDS:-9}" "$OUT/startup.json"
} | tee "$OUT/startup.md"
