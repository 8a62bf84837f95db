#!/usr/bin/env bash
set -euo pipefail
echo "creating catalog ${SLIPWAY_VAR_catalog} in ${REGION}"
