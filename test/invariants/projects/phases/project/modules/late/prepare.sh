#!/usr/bin/env bash
set -euo pipefail
echo "prepare in $(basename "$PWD") module=$SLIPWAY_MODULE"
