#!/usr/bin/env bash
# Deployment-engine benchmark: how long validate / plan / no-op deploy take, as whole processes,
# for projects of ~1,000 and ~10,000 resources. See bench/README.md.
#
# Environment knobs (all optional):
#   BENCH_SIZES="1000 10000"   settings per generated project (resources = settings + 10 module markers)
#   BENCH_RUNS_1K=15           hyperfine runs for N=1000   (at least 10)
#   BENCH_RUNS_10K=8           hyperfine runs for N=10000  (at least 5)
#   BENCH_RUNS=5               hyperfine runs for any other N
#   BENCH_WARMUP=2             hyperfine warmup runs
#   BENCH_TIMEOUT=300          seconds allowed per hyperfine invocation (keeps the total bounded)
#   BENCH_OUT=bench/out        where the JSON exports and the markdown summary go
#   BENCH_SNAPSHOT=1           run a private copy of bin/ + dist/ (node_modules linked), so that a rebuild of
#                              dist/ by someone else during the run cannot mix two builds; 0 = run in place
#   BENCH_SHAPE=1              also time `validate` on the same number of settings (BENCH_SHAPE_N=10000) split over
#                              1, 10 and 100 modules: the cost should not depend on how settings are spread
#   BENCH_PROFILE=1            also CPU-profile one no-op plan and deploy per size (node --cpu-prof) and
#                              summarise them (bench/engine/profile-summary.mjs) into bench/out/
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${BENCH_OUT:-$ROOT/bench/out}
SIZES=${BENCH_SIZES:-"1000 10000"}
WARMUP=${BENCH_WARMUP:-2}
TIMEOUT=${BENCH_TIMEOUT:-300}
CLI="$ROOT/bin/slipway.cjs"

# The file the launcher (bin/slipway.cjs) imports, e.g. dist/cli.cjs.
ENTRY=$(grep -o '\.\./dist/[^"'"'"']*' "$CLI" | head -1 | sed 's|^\.\./||')
if [[ -z "$ENTRY" || ! -f "$ROOT/$ENTRY" ]]; then
  echo "bench/engine: dist/ is missing; run 'npm run build' (or bench/run.sh, which does it)" >&2
  exit 1
fi
if ! command -v hyperfine >/dev/null 2>&1; then
  echo "bench/engine: hyperfine not found; installing it with apt-get" >&2
  if [[ $(id -u) -eq 0 ]]; then apt-get install -y hyperfine >/dev/null; else sudo apt-get install -y hyperfine >/dev/null; fi
fi

runs_for() {
  case "$1" in
    1000) echo "${BENCH_RUNS_1K:-15}" ;;
    10000) echo "${BENCH_RUNS_10K:-8}" ;;
    *) echo "${BENCH_RUNS:-5}" ;;
  esac
}

now_ns() { date +%s%N; }

mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/slipway-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# What is measured: the commit, and a fingerprint of the built CLI (dist/ can be rebuilt under us).
fingerprint() { sha256sum "$CLI_ROOT/$ENTRY" | cut -c1-12; }
CLI_ROOT=$ROOT
if [[ "${BENCH_SNAPSHOT:-1}" == "1" ]]; then
  CLI_ROOT="$WORK/cli"
  mkdir -p "$CLI_ROOT"
  cp -r "$ROOT/bin" "$ROOT/dist" "$ROOT/package.json" "$CLI_ROOT/"
  ln -s "$ROOT/node_modules" "$CLI_ROOT/node_modules"
  CLI="$CLI_ROOT/bin/slipway.cjs"
  node "$CLI" --version >/dev/null
fi
BUILD_BEFORE=$(fingerprint)
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n "$(git -C "$ROOT" status --porcelain -- src 2>/dev/null)" ]]; then COMMIT="$COMMIT+uncommitted-src"; fi

# Machine facts, recorded next to the figures.
META="$OUT/engine-meta.json"
node -e '
  const os = require("node:os");
  const cpus = os.cpus();
  console.log(JSON.stringify({
    date: new Date().toISOString(),
    node: process.version,
    nproc: Number(process.argv[1]),
    cpu: cpus[0]?.model ?? "unknown",
    memory_gib: +(os.totalmem() / 2 ** 30).toFixed(1),
    loadavg_at_start: os.loadavg().map((l) => +l.toFixed(2)),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    hyperfine: process.argv[2],
    commit: process.argv[3],
    build: `${process.argv[4]} ${process.argv[5]}`,
    sizes: []
  }));
' "$(nproc)" "$(hyperfine --version | awk '{print $2}')" "$COMMIT" "$ENTRY" "$BUILD_BEFORE" > "$META"

for N in $SIZES; do
  RUNS=$(runs_for "$N")
  PROJECT="$WORK/project-$N"
  export SLIPWAY_HOME="$WORK/home-$N"
  mkdir -p "$SLIPWAY_HOME"

  echo "== N=$N settings: generating project in $PROJECT (SLIPWAY_HOME=$SLIPWAY_HOME)"
  node "$HERE/generate.mjs" "$PROJECT" "$N" >/dev/null

  node "$CLI" validate --project "$PROJECT" --json > "$WORK/validate-$N.json"
  RESOURCES=$(node -e 'const d = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")); if (!d.ok) process.exit(1); console.log(d.resources)' "$WORK/validate-$N.json")
  echo "   slipway validate: $RESOURCES resources"

  # First real deploy: every resource is created. Timed once (it is not repeatable on the same state).
  t0=$(now_ns)
  node "$CLI" deploy --yes --project "$PROJECT" --json > "$WORK/deploy-$N.json" 2> "$WORK/deploy-$N.log"
  t1=$(now_ns)
  FIRST_MS=$(( (t1 - t0) / 1000000 ))
  node -e 'const d = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")); if (d.status !== "succeeded") { console.error(d); process.exit(1); }' "$WORK/deploy-$N.json"
  echo "   first deploy (creates everything): ${FIRST_MS} ms"

  # The measured plan and deploy must be no-ops: check once, and run deploy WITHOUT --yes below so
  # that any change would make it refuse (exit 3) and hyperfine would stop instead of timing work.
  node "$CLI" plan --project "$PROJECT" --json > "$WORK/plan-$N.json"
  node -e '
    const d = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
    const s = d.summary; const changes = s.create + s.update + s.replace + s.delete;
    if (changes !== 0) { console.error("plan after the first deploy is not empty:", s); process.exit(1); }
  ' "$WORK/plan-$N.json"

  q() { printf "'%s'" "$1"; }  # single-quote a path for hyperfine's word splitting (-N)
  timeout "$TIMEOUT" hyperfine -N --style basic --warmup "$WARMUP" --runs "$RUNS" \
    --export-json "$OUT/engine-$N.json" \
    -n "node -e 0" "node -e 0" \
    -n "slipway --version" "node $(q "$CLI") --version" \
    -n "validate" "node $(q "$CLI") validate --project $(q "$PROJECT")" \
    -n "plan (no-op)" "node $(q "$CLI") plan --project $(q "$PROJECT")" \
    -n "deploy (no-op)" "node $(q "$CLI") deploy --project $(q "$PROJECT")"

  if [[ "${BENCH_PROFILE:-0}" == "1" ]]; then
    for cmd in plan deploy; do
      dir="$OUT/profile-$N-$cmd"
      rm -rf "$dir"
      node --cpu-prof --cpu-prof-dir="$dir" "$CLI" "$cmd" --project "$PROJECT" >/dev/null
      node "$HERE/profile-summary.mjs" "$dir"/*.cpuprofile 25 > "$OUT/profile-$N-$cmd.txt"
      echo "   profile of no-op $cmd: $OUT/profile-$N-$cmd.txt"
    done
  fi

  node -e '
    const fs = require("node:fs");
    const [file, n, resources, first] = process.argv.slice(1);
    const m = JSON.parse(fs.readFileSync(file, "utf8"));
    m.sizes.push({ settings: Number(n), resources: Number(resources), first_deploy_ms: Number(first) });
    fs.writeFileSync(file, JSON.stringify(m, null, 2));
  ' "$META" "$N" "$RESOURCES" "$FIRST_MS"
done

if [[ "${BENCH_SHAPE:-1}" == "1" ]]; then
  SN=${BENCH_SHAPE_N:-10000}
  export SLIPWAY_HOME="$WORK/home-shape"
  mkdir -p "$SLIPWAY_HOME"
  args=()
  for M in 1 10 100; do
    node "$HERE/generate.mjs" "$WORK/shape-$M" "$SN" "$M" >/dev/null
    args+=(-n "validate: $SN settings in $M module(s)" "node $(printf "'%s'" "$CLI") validate --project $(printf "'%s'" "$WORK/shape-$M")")
  done
  echo "== shape: $SN settings over 1, 10, 100 modules"
  timeout "$TIMEOUT" hyperfine -N --style basic --warmup 1 --runs "${BENCH_RUNS_SHAPE:-5}" --export-json "$OUT/engine-shape.json" "${args[@]}"
fi

if [[ "$CLI_ROOT" != "$ROOT" && "$(sha256sum "$ROOT/$ENTRY" | cut -c1-12)" != "$BUILD_BEFORE" ]]; then
  echo "note: $ENTRY in the repo was rebuilt during the run; these figures are for the snapshot taken at the start ($BUILD_BEFORE)." >&2
fi
if [[ "$(fingerprint)" != "$BUILD_BEFORE" ]]; then
  echo "warning: $ENTRY was rebuilt while the benchmark ran; the figures mix two builds. Run it again." >&2
  node -e 'const fs = require("node:fs"); const m = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); m.build += " (REBUILT DURING THE RUN)"; fs.writeFileSync(process.argv[1], JSON.stringify(m, null, 2));' "$META"
fi

echo
node "$HERE/report.mjs" "$OUT" | tee "$OUT/engine.md"
