#!/usr/bin/env bash
set -euo pipefail
echo "registering endpoint settings for ${SLIPWAY_MODULE} (token ${SLIPWAY_VAR_api_token})"
