# The baseline checkout the bundles and runs benchmarks compare against, as BENCH_BASELINE.
#   BENCH_BASELINE=DIR         use DIR (a checkout; for runs, built: DIR/bin/slipway.cjs and DIR/dist)
#   BENCH_BASELINE_REF=COMMIT  or: extract COMMIT with `git archive` into a temp folder, link this
#                              checkout's node_modules into it and (unless "nobuild") build it there
# Default ref: 83ebdc2, the commit before bundles became trees and runs stopped copying.
baseline_checkout() {
  local ref="${1:-}" mode="${2:-build}"
  if [[ -n "${BENCH_BASELINE:-}" ]]; then return 0; fi
  ref="${ref:-83ebdc2}"
  BENCH_BASELINE="$(mktemp -d /tmp/slipway-baseline.XXXXXX)"
  BENCH_BASELINE_TMP="$BENCH_BASELINE"   # made here: the caller removes it (baseline_cleanup)
  (cd "$ROOT" && git archive "$ref") | tar -x -C "$BENCH_BASELINE"
  ln -s "$ROOT/node_modules" "$BENCH_BASELINE/node_modules"
  if [[ "$mode" == build ]]; then
    (cd "$BENCH_BASELINE" && node -e "require('node:fs').rmSync('dist', { recursive: true, force: true })" && npx tsc -p tsconfig.json && node scripts/bundle.mjs) >&2
  fi
  echo "bench: baseline $ref in $BENCH_BASELINE" >&2
  export BENCH_BASELINE
}

# Removes the baseline checkout if baseline_checkout made it.
baseline_cleanup() {
  if [[ -n "${BENCH_BASELINE_TMP:-}" ]]; then rm -rf "$BENCH_BASELINE_TMP"; unset BENCH_BASELINE BENCH_BASELINE_TMP; fi
}
