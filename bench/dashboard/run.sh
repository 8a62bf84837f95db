#!/usr/bin/env bash
# The dashboard: first-page weight and the overview's render time in headless Chromium (bench/README.md#dashboard).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f dist/web/index.html ] || npm run build --silent
node --import tsx bench/dashboard/overview.ts
