#!/usr/bin/env bash
set -euo pipefail
echo "features down in $(basename "$PWD") module=$SLIPWAY_MODULE"
mkdir -p "$SLIPWAY_HOME/../effects"
rm -f "$SLIPWAY_HOME/../effects/features-up"
