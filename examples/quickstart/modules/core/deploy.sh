#!/usr/bin/env bash
set -euo pipefail
echo "creating catalog ${SLIPWAY_VAR_catalog} in ${REGION} for ${SLIPWAY_PROJECT}/${SLIPWAY_TARGET}"
mkdir -p "${SLIPWAY_HOME:-$HOME/.slipway}/quickstart-data/${SLIPWAY_TARGET}/${SLIPWAY_VAR_catalog}"
