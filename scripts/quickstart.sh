#!/usr/bin/env bash
# The quickstart: deploys examples/quickstart (core + two modules, hooks, settings, phases) to the
# embedded default (SQLite state under SLIPWAY_HOME, default ~/.slipway), shows it, and destroys it.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/cli.cjs ] || npm run build --silent
slipway() { echo; echo "\$ slipway $*"; node bin/slipway.cjs "$@" --project examples/quickstart; }

slipway validate
slipway plan --phase 1
slipway deploy --phase 1            # phase 1: core, features, serving's model and hooks
slipway deploy                      # every phase: adds the phase-2 endpoint
slipway status
slipway settings list
slipway run train --wait --param epochs=100   # a training job: bundled, run, results archived
slipway runs
slipway history
slipway destroy --yes               # reverse order: serving, features, core
slipway status
