#!/usr/bin/env bash
# CI, on a merge to main: build the wheel once (its version is libs/dqm/pyproject.toml's) and publish it
# to the artifact stores of dev, val and prod. Re-running on the same commit changes nothing; a changed
# library whose version was not bumped is refused (exit 3) before anything is written anywhere.
#
#   SLIPWAY_VAR_python=/usr/bin/python3 ./ci.sh      # an interpreter that has setuptools and wheel
set -euo pipefail
cd "$(dirname "$0")"
SLIPWAY="${SLIPWAY:-node ../../bin/slipway.cjs}"

$SLIPWAY validate
$SLIPWAY artifacts build dqm
$SLIPWAY artifacts publish dqm --all-targets
