#!/usr/bin/env bash
# The quickstart: checks the machine (slipway doctor), deploys examples/quickstart (core + three modules,
# hooks, settings, phases, a Python and a Node training job, a served model) to the embedded default
# (SQLite state under SLIPWAY_HOME, default ~/.slipway), queries it, and destroys it again. It needs
# Node.js and python3. It leaves nothing deployed and nothing running, also when a step fails; the
# history and the runs stay in SLIPWAY_HOME.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/cli.cjs ] || npm run build --silent
cli() { node bin/slipway.cjs "$@"; }
slipway() { echo; echo "\$ slipway $*"; cli "$@" --project examples/quickstart; }

# Before anything is deployed: a missing python3 (or a taken port) stops here, with how to fix it.
if ! slipway doctor; then
  echo
  echo "quickstart: fix what doctor reports above, then run it again (nothing was deployed)." >&2
  exit 1
fi

deployed=0
finish() {
  local code=$?
  if [ "$code" -ne 0 ] && [ "$deployed" = 1 ]; then
    echo >&2
    echo "quickstart: a step failed (exit $code); destroying what it deployed so nothing is left behind" >&2
    cli destroy --yes --project examples/quickstart >/dev/null 2>&1 || echo "quickstart: destroy failed too; run: slipway destroy --yes --project examples/quickstart" >&2
    # The deploy started the local server in the background. Destroy stops it once no endpoint is
    # left; if destroy failed, stop it anyway so nothing is left running.
    cli server stop >/dev/null 2>&1 || true
  fi
  exit "$code"
}
trap finish EXIT

slipway validate
slipway plan --phase 1
deployed=1
slipway deploy --phase 1            # phase 1: core, features, training and serving's jobs, model, hooks
slipway run train --wait --param epochs=100   # a training job: bundled, run, results archived
slipway run "[dev] Quickstart - Train" --wait # the same job, by its title
slipway jobs list                   # deployed jobs, their titles, the schedules that run them
slipway schedules list              # nightly-train: next fire time (the server deploy started fires it)
slipway run train_iris --wait       # trains the iris classifier, writes ONNX, registers iris@champion
slipway models versions iris
slipway deploy                      # every phase: adds the phase-2 endpoint serving iris@champion and a minutely schedule
slipway schedules wait heartbeat-every-minute   # within a minute the server fires it: a run with trigger schedule
slipway schedules pause heartbeat-every-minute  # no more fires (unpause lets it fire again)
slipway endpoints query iris-dev --data '{"inputs": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}'
slipway endpoints logs iris-dev
slipway status
slipway settings list
slipway runs
slipway server status               # background work: schedules, endpoint TTLs, lost runs (last and next run)
slipway history
slipway destroy --yes               # reverse order: serving (inference table archived), features, core
deployed=0
slipway status
# destroy stopped the background server (no endpoint is left): nothing is running.
echo
echo "\$ slipway server status"
cli server status
# The dashboard (docs/dashboard.md): the server's web pages show the history, runs and models kept
# above. A sign-in link for an administrator ("admin", made here the first time), valid one hour.
cli users create admin --admin >/dev/null 2>&1 || true
token="$(cli tokens create --user admin --expires-in 1h --description "quickstart dashboard sign-in" --json | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).token)')"
echo
echo "dashboard: start the server with \`node bin/slipway.cjs server\`, then open"
echo "  http://127.0.0.1:${SLIPWAY_SERVER_PORT:-7878}/signin#token=${token}"
echo "  (a sign-in link; its token expires in one hour)"
echo
echo "quickstart: done; nothing is deployed or running. History and runs stay in ${SLIPWAY_HOME:-~/.slipway} (remove it with rm -rf to forget them)."
