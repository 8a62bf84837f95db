#!/usr/bin/env bash
# The quickstart: deploys examples/quickstart (core + two modules, hooks, settings, phases) to the
# embedded default (SQLite state under SLIPWAY_HOME, default ~/.slipway), shows it, and destroys it.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/cli.cjs ] || npm run build --silent
slipway() { echo; echo "\$ slipway $*"; node bin/slipway.cjs "$@" --project examples/quickstart; }
# deploy starts the local server in the background; stop it when the quickstart ends.
trap 'node bin/slipway.cjs server stop >/dev/null' EXIT

slipway validate
slipway plan --phase 1
slipway deploy --phase 1            # phase 1: core, features, training and serving's jobs, model, hooks
slipway run train --wait --param epochs=100   # a training job: bundled, run, results archived
slipway run "[dev] Quickstart - Train" --wait # the same job, by its title
slipway jobs list                   # deployed jobs, their titles, the schedules that run them
slipway schedules list              # nightly-train: next fire time (the server deploy started fires it)
slipway run train_iris --wait       # trains the iris classifier, writes ONNX, registers iris@champion
slipway models versions iris
slipway deploy                      # every phase: adds the phase-2 endpoint serving iris@champion
slipway endpoints query iris-dev --data '{"inputs": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}'
slipway endpoints logs iris-dev
slipway status
slipway settings list
slipway runs
slipway server status               # background work: schedules, endpoint TTLs, lost runs (last and next run)
slipway history
slipway destroy --yes               # reverse order: serving (inference table archived), features, core
slipway status
