#!/usr/bin/env bash
# Random kill -9 trials of `slipway deploy` while hook scripts run (test/integration/hook-orphans.test.ts),
# more of them than `npm test` runs. Usage: scripts/hook-trials.sh [TRIALS] (default 25).
# SLIPWAY_TRIAL_SEED=N replays a run; each trial prints its seed.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build --silent
SLIPWAY_TRIALS="${1:-25}" node --import tsx --test test/integration/hook-orphans.test.ts
