#!/usr/bin/env bash
# Executors: N trivial jobs (command `true`) one after another, each waited for, as whole processes.
#   local:  `slipway run noop --wait` on the local executor   vs  `bash -c true`        (per-run overhead)
#   slurm:  `slipway run noop --wait` on a Slurm target      vs  `sbatch --wait --wrap true`  (target: ≤ 1.2x)
#           and, for reference, `sbatch` then `scontrol show job` every 0.1 s until the job ends
# REPS rounds; each round runs every variant once (N jobs each), in a rotated order, so the variants
# share the machine's state; the figure is the median round. Needs root for the Slurm part (it starts a
# throwaway single-node cluster with scripts/services/slurm.sh); without root the Slurm part is skipped.
#
#   bash bench/executors/run.sh                   # N=200, REPS=5 (about an hour: sbatch --wait alone is ~2 s a job)
#   BENCH_JOBS=20 BENCH_REPS=3 bash bench/executors/run.sh
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
N="${BENCH_JOBS:-200}"
REPS="${BENCH_REPS:-5}"
[ -f "$ROOT/dist/cli.cjs" ] || (cd "$ROOT" && npm run build --silent)
OUT="$ROOT/bench/out"; mkdir -p "$OUT"
WORK="$(mktemp -d /tmp/slipway-bench-exec.XXXXXX)"; chmod 755 "$WORK"
slurm_dir=""
cleanup() {
  if [ -n "$slurm_dir" ]; then "$ROOT/scripts/services/slurm.sh" stop "$slurm_dir" >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

export SLIPWAY_HOME="$WORK/home" NO_COLOR=1
P="$WORK/project"; mkdir -p "$P/modules/m"
cat > "$P/slipway.yaml" <<'YAML'
project: bench
include: [modules/*/module.yaml]
targets:
  dev:
    default: true
  hpc:
    executor: { type: slurm, partition: debug }
YAML
cat > "$P/modules/m/module.yaml" <<'YAML'
module: m
resources:
  jobs:
    noop:
      command: "true"
YAML
# A private copy of bin/ + dist/ (node_modules linked): a rebuild of the checkout during the hour this
# takes cannot break or mix the runs (the Slurm batch script starts the runner from this copy too).
CLI_ROOT="$WORK/cli"
mkdir -p "$CLI_ROOT"
cp -r "$ROOT/bin" "$ROOT/dist" "$ROOT/package.json" "$CLI_ROOT/"
ln -s "$ROOT/node_modules" "$CLI_ROOT/node_modules"
COMMIT="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
S=(node "$CLI_ROOT/bin/slipway.cjs" --project "$P")

variants=(bash_true slipway_local)
if [ "$(id -u)" = 0 ]; then
  slurm_dir="$WORK/slurm"
  export "$("$ROOT/scripts/services/slurm.sh" start "$slurm_dir")"
  "${S[@]}" deploy -t hpc --yes >/dev/null
  variants+=(sbatch_wait sbatch_poll slipway_slurm)
else
  echo "bench/executors: not root, so no Slurm cluster: only the local part runs" >&2
fi
"${S[@]}" deploy --yes >/dev/null
# Warm-up: the first run stores the bundle; the first job wakes the cluster.
"${S[@]}" run noop --wait >/dev/null
if [ -n "$slurm_dir" ]; then "${S[@]}" run noop -t hpc --wait >/dev/null; sbatch --wait -o /dev/null --wrap true >/dev/null; fi

one() {
  case "$1" in
    bash_true) bash -c true ;;
    slipway_local) "${S[@]}" run noop --wait >/dev/null ;;
    slipway_slurm) "${S[@]}" run noop -t hpc --wait >/dev/null ;;
    sbatch_wait) sbatch --wait --quiet -o /dev/null --wrap true ;;
    sbatch_poll)
      local id
      id="$(sbatch --parsable -o /dev/null --wrap true)"
      while scontrol show job -o "$id" 2>/dev/null | grep -q -E "JobState=(PENDING|CONFIGURING|RUNNING|COMPLETING)"; do sleep 0.1; done
      ;;
  esac
}

now() { date +%s.%N; }
results="$OUT/executors.jsonl"; : >"$results"
echo "bench/executors: commit $COMMIT, N=$N jobs per variant, $REPS rounds, variants: ${variants[*]}, $(nproc) CPUs" >&2
for ((rep = 0; rep < REPS; rep++)); do
  k=${#variants[@]}
  for ((j = 0; j < k; j++)); do
    v="${variants[$(((j + rep) % k))]}"
    load_before="$(cut -d' ' -f1 /proc/loadavg)"
    t0="$(now)"
    for ((i = 0; i < N; i++)); do one "$v"; done
    t1="$(now)"
    load_after="$(cut -d' ' -f1 /proc/loadavg)"
    printf '{"round":%d,"variant":"%s","jobs":%d,"seconds":%s,"load_before":%s,"load_after":%s}\n' "$rep" "$v" "$N" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" "$load_before" "$load_after" | tee -a "$results" >&2
  done
done

node "$HERE/report.mjs" "$results" | tee "$OUT/executors.md"
