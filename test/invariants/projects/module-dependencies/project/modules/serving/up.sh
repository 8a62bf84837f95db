#!/usr/bin/env bash
set -euo pipefail
echo "serving up in $(basename "$PWD") module=$SLIPWAY_MODULE"
mkdir -p "$SLIPWAY_HOME/../effects"
echo "serving up" > "$SLIPWAY_HOME/../effects/serving-up"
