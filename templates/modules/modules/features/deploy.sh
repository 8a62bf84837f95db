#!/usr/bin/env bash
set -euo pipefail
echo "creating feature tables in ${SLIPWAY_VAR_catalog} (log level ${LOG_LEVEL}, token ${SLIPWAY_VAR_api_token})"
