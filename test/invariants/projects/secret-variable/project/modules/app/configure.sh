#!/usr/bin/env bash
set -euo pipefail
echo "configure in $(basename "$PWD") module=$SLIPWAY_MODULE"
echo "token is $SLIPWAY_VAR_token"
