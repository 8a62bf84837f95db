#!/usr/bin/env bash
set -euo pipefail
echo "tearing down ${SLIPWAY_MODULE} for ${SLIPWAY_PROJECT}/${SLIPWAY_TARGET}"
