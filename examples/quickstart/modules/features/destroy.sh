#!/usr/bin/env bash
set -euo pipefail
echo "dropping feature tables"
rm -f "${SLIPWAY_HOME:-$HOME/.slipway}/quickstart-data/${SLIPWAY_TARGET}/${SLIPWAY_VAR_catalog}/features"
