#!/usr/bin/env bash
set -euo pipefail
echo "setting up ${SLIPWAY_MODULE} for ${SLIPWAY_PROJECT}/${SLIPWAY_TARGET}: ${SLIPWAY_VAR_greeting}"
