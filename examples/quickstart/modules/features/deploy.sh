#!/usr/bin/env bash
set -euo pipefail
echo "creating feature tables in ${SLIPWAY_VAR_catalog} (log level ${LOG_LEVEL})"
touch "${SLIPWAY_HOME:-$HOME/.slipway}/quickstart-data/${SLIPWAY_TARGET}/${SLIPWAY_VAR_catalog}/features"
