#!/usr/bin/env bash
set -euo pipefail
echo "dropping catalog ${SLIPWAY_VAR_catalog}"
rm -rf "${SLIPWAY_HOME:-$HOME/.slipway}/quickstart-data/${SLIPWAY_TARGET}/${SLIPWAY_VAR_catalog}"
