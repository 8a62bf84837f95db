#!/usr/bin/env bash
set -euo pipefail
echo "dropping feature tables in ${SLIPWAY_VAR_catalog}"
