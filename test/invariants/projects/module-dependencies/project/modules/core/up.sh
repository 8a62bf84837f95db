#!/usr/bin/env bash
set -euo pipefail
echo "core up in $(basename "$PWD") module=$SLIPWAY_MODULE"
mkdir -p "$SLIPWAY_HOME/../effects"
echo "core up" > "$SLIPWAY_HOME/../effects/core-up"
