#!/usr/bin/env bash
set -euo pipefail
echo "setup in $(basename "$PWD") module=$SLIPWAY_MODULE"
