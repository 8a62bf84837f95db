#!/usr/bin/env bash
set -euo pipefail
echo "features up in $(basename "$PWD") module=$SLIPWAY_MODULE"
mkdir -p "$SLIPWAY_HOME/../effects"
echo "features up" > "$SLIPWAY_HOME/../effects/features-up"
