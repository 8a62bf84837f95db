#!/usr/bin/env bash
set -euo pipefail
echo "dropping catalog ${SLIPWAY_VAR_catalog}"
