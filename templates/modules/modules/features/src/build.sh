#!/usr/bin/env bash
# A job's command runs in a copy of its source folder; SLIPWAY_PARAM_<name> holds each parameter and
# files written to $SLIPWAY_OUTPUT_DIR are kept with the run (results.json becomes its results).
set -euo pipefail
echo "building ${SLIPWAY_PARAM_days} day(s) of features into ${SLIPWAY_VAR_catalog}.features"
printf '{"days": %s, "rows": %s}\n' "${SLIPWAY_PARAM_days}" "$((SLIPWAY_PARAM_days * 100))" > "$SLIPWAY_OUTPUT_DIR/results.json"
