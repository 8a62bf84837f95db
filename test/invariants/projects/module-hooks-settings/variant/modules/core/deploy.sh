#!/usr/bin/env bash
set -euo pipefail
echo "setup v2 in $(basename "$PWD") module=$SLIPWAY_MODULE"
mkdir -p "$SLIPWAY_HOME/../effects"
echo "setup v2" > "$SLIPWAY_HOME/../effects/core-setup"
