#!/usr/bin/env bash
# Two parts (see bench/README.md); BENCH_RUNS_PART=launch or rerun runs one of them.
#  launch: `slipway run --wait` of a job whose command is `true`, against `bash -c true` and `node -e 0`,
#          as whole processes in the same hyperfine run.
#  rerun:  the unchanged re-run of a 16 ms task with the 2,000-file, 195 MB source, this checkout against
#          a baseline checkout (BENCH_BASELINE=DIR, built; or BENCH_BASELINE_REF=COMMIT, made with git
#          archive and built in a temp folder), interleaved (bench/runs/rerun.mjs).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PART="${BENCH_RUNS_PART:-all}"
if [[ "$PART" == rerun || "$PART" == all ]]; then
  [ -f "$ROOT/dist/cli.cjs" ] || (cd "$ROOT" && npm run build --silent)
  # shellcheck source=../lib/baseline.sh
  source "$HERE/../lib/baseline.sh"
  baseline_checkout "${BENCH_BASELINE_REF:-}" build
  mkdir -p "$ROOT/bench/out"
  status=0
  node "$HERE/rerun.mjs" | tee "$ROOT/bench/out/runs-rerun.txt" || status=$?
  baseline_cleanup
  [[ "$status" != 0 || "$PART" == rerun ]] && exit "$status"
fi
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
[ -f "$ROOT/dist/cli.cjs" ] || (cd "$ROOT" && npm run build --silent)
OUT="$ROOT/bench/out"; mkdir -p "$OUT"
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
export SLIPWAY_HOME="$WORK/home" NO_COLOR=1
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
S="node $ROOT/bin/slipway.cjs --project $P"
$S deploy >/dev/null              # run executes jobs deployed to the target
$S run noop --wait >/dev/null   # first run stores the bundle; later runs reuse it
hyperfine -N --warmup 3 --runs "${BENCH_RUNS:-30}" --export-json "$OUT/runs-launch.json" \
  -n "bash -c true" "bash -c true" \
  -n "node -e 0" "node -e 0" \
  -n "slipway --version" "node $ROOT/bin/slipway.cjs --version" \
  -n "slipway run noop (submit, detached)" "$S run noop" \
  -n "slipway run noop --wait" "$S run noop --wait" >/dev/null
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results;
const ms = (s) => (s * 1000).toFixed(1);
const base = r.find((x) => x.command === "bash -c true").median;
console.log("| command | median ms | mean ± σ ms | min | max | added over bash -c true (median) |");
console.log("|---|---:|---:|---:|---:|---:|");
for (const x of r) console.log(`| \`${x.command}\` | ${ms(x.median)} | ${ms(x.mean)} ± ${ms(x.stddev)} | ${ms(x.min)} | ${ms(x.max)} | ${ms(x.median - base)} |`);
' "$OUT/runs-launch.json" | tee "$OUT/runs.md"
