#!/usr/bin/env bash
set -euo pipefail
echo "register in $(basename "$PWD") module=$SLIPWAY_MODULE"
