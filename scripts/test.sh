#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs dependencies, builds, starts the services the tests
# need on 127.0.0.1 in temporary folders (PostgreSQL for the state conformance suite; OpenStack Swift
# with its s3api middleware, a real S3-compatible server, for the blob store suite and the S3 tests; a
# Slurm cluster for the Slurm executor, as root), runs every test, and stops what it started.
#
#   npm test                                   # everything
#   npm test -- test/integration/deploy.test.ts   # only these files
#   npm test -- --backend-matrix               # only the backend matrix pass (below), on its list
#   npm test -- --backend-matrix test/integration/deploy.test.ts   # that pass on these files
#
# The backend matrix: beside the whole suite (at the same time, output after it), the integration files
# listed in test/backend-matrix.txt (those that prove the embedded default through the CLI) run a second time with
# SLIPWAY_TEST_BACKENDS=postgres,s3,slurm: every test home's config.yaml names PostgreSQL state, S3
# blobs and the Slurm executor (test/helpers/home-backends.ts). It runs when PostgreSQL, Swift and
# Slurm are all available and SLIPWAY_TEST_MATRIX is not 0 (scripts/test-as-user.sh sets it to 0:
# CI runs the matrix once, in the root pass).
#
# Every temporary folder of the run lives under one folder (TMPDIR), removed at the end; processes the
# tests left running (found by that folder in their environment) are stopped and reported. Output is
# one line per test file, every failure in full, and a summary last (scripts/test-reporter.mjs).
# SLIPWAY_TEST_REPORTER=spec gives node's per-test output instead.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
if [ -w . ]; then
  npm run build --silent
elif [ ! -f dist/cli.cjs ]; then
  echo "test.sh: dist/ is not built and $(pwd) is not writable for $(id -un): run npm run build first" >&2
  exit 1
fi

# Layers point down only, and running code has no import cycles (.dependency-cruiser.cjs).
npm run check:layers --silent
# The dashboard's sources (web/): Vite strips their types without checking them, so tsc does here.
npx tsc -p web/tsconfig.json
# The tests' own types (tsx strips them when it runs them): a change to src/ that breaks a test file's
# use of it fails here, before the suite. Once per checkout (the build's pass, not the unprivileged one).
if [ -w . ]; then npx tsc -p tsconfig.tests.json; fi

# The artifact tests build wheels and make environments with Debian's python3 (setuptools, wheel, pip,
# venv). Import setuptools first: imported after ensurepip/pip, its distutils shim raises an
# AssertionError although everything is installed.
if ! /usr/bin/python3 -c 'import setuptools, wheel, pip, venv, ensurepip' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "test.sh: /usr/bin/python3 lacks setuptools, wheel, pip or venv; installing the Debian packages" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-wheel python3-pip python3-setuptools >/dev/null
  else
    echo "test.sh: warning: /usr/bin/python3 lacks setuptools, wheel, pip or venv (apt-get install python3-venv python3-wheel, as root); the artifact tests will fail" >&2
  fi
fi

# The dashboard's browser tests (test/dashboard) drive Debian's Chromium with playwright-core (Playwright's
# own browser download does not work offline). As root it is installed when missing; otherwise those
# tests are skipped with the reason.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "test.sh: /usr/bin/chromium is missing; installing Debian's chromium package for the dashboard's browser tests" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "test.sh: warning: /usr/bin/chromium is missing (apt-get install chromium, as root); the dashboard's browser tests are skipped" >&2
  fi
fi

run_tmp="$(mktemp -d "${TMPDIR:-/tmp}/slipway-test-run.XXXXXX")"
chmod 755 "$run_tmp"
services="$run_tmp/services"
mkdir -p "$services" "$run_tmp/tmp"
chmod 755 "$services"
orig_tmpdir="${TMPDIR:-}"
slurm_started=0
cleanup() {
  local code=$?
  export TMPDIR="${orig_tmpdir:-/tmp}"
  scripts/services/postgres.sh stop "$services/pg" >/dev/null 2>&1 || true
  scripts/services/swift.sh stop "$services/swift" >/dev/null 2>&1 || true
  # Before looking for leftovers: a job the tests left running carries this run's TMPDIR too.
  if [ "$slurm_started" = 1 ]; then scripts/services/slurm.sh stop "$services/slurm" >/dev/null 2>&1 || true; fi
  # Processes a test started and did not stop (a server, a runner): their environment names this run's folder.
  local leaked=()
  local environ pid
  for environ in /proc/[0-9]*/environ; do
    pid="${environ#/proc/}"
    pid="${pid%/environ}"
    [ "$pid" = "$$" ] && continue
    # Only processes of this user can be read (and could have been started by the tests).
    { [ -O "/proc/$pid" ] && tr '\0' '\n' <"$environ" | grep -q "^TMPDIR=$run_tmp/tmp\$"; } 2>/dev/null && leaked+=("$pid")
  done
  if [ "${#leaked[@]}" -gt 0 ]; then
    echo "test.sh: warning: the tests left ${#leaked[@]} process(es) running; stopping them:" >&2
    for pid in "${leaked[@]}"; do
      echo "  $pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-150)" >&2
      kill "$pid" 2>/dev/null || true
    done
    sleep 0.5
    for pid in "${leaked[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  fi
  # What the tests left in TMPDIR is reported, then removed; not the tools' own files: tsx's and
  # v8-compile-cache's and the launcher's compile caches (bin/slipway.cjs), and the empty mat-debug-PID.log and .ses that onnxruntime's library
  # writes into TMPDIR in every process that loads it.
  local left
  left="$(find "$run_tmp/tmp" -mindepth 1 -maxdepth 1 -not -name 'tsx-*' -not -name 'v8-compile-cache-*' -not -name 'slipway-compile-cache-*' -not -name 'mat-debug-*.log' -not -name '.ses' -printf '  %f\n' 2>/dev/null | sort)"
  if [ -n "$left" ]; then
    echo "test.sh: note: temporary files the tests did not remove (removed now):" >&2
    echo "$left" | head -n 20 >&2
  fi
  chmod -R u+rwX "$run_tmp" 2>/dev/null || true
  rm -rf "$run_tmp" 2>/dev/null || rm -rf "$run_tmp" || echo "test.sh: could not remove $run_tmp" >&2
  exit "$code"
}
trap cleanup EXIT

export "$(scripts/services/postgres.sh start "$services/pg")"

# The S3-compatible server: Debian's OpenStack Swift packages (installed by swift.sh when missing and
# we are root, ~1 minute). As root a failure to start it fails the run; otherwise (the packages
# missing, /etc/swift/swift.conf absent) the tests that need it are skipped, each with the reason.
if swift_env="$(scripts/services/swift.sh start "$services/swift" 2>"$services/swift-start.log")"; then
  while IFS= read -r line; do [ -n "$line" ] && export "$line"; done <<<"$swift_env"
else
  cat "$services/swift-start.log" >&2
  if [ "$(id -u)" = 0 ]; then
    echo "test.sh: could not start OpenStack Swift (scripts/services/swift.sh)" >&2
    exit 1
  fi
  echo "test.sh: warning: no S3-compatible server (OpenStack Swift could not be started); the S3 tests are skipped" >&2
fi

# A single-node Slurm cluster (munged, slurmctld, slurmd on 127.0.0.1) for the Slurm executor's tests,
# installed from Debian's packages when missing. Starting it needs root (as root, a failure to start it
# fails the run); as another user the tests use a cluster someone started as root and named in
# SLIPWAY_TEST_SLURM_CONF (scripts/test-as-user.sh does, and stops it), or skip with the reason in
# SLIPWAY_TEST_SLURM_SKIP.
slurm_started=0
if [ -n "${SLIPWAY_TEST_SLURM_CONF:-}" ]; then
  :
elif [ "$(id -u)" = 0 ]; then
  if slurm_conf="$(scripts/services/slurm.sh start "$services/slurm")"; then
    export SLIPWAY_TEST_SLURM_CONF="${slurm_conf#SLURM_CONF=}"
    slurm_started=1
  else
    echo "test.sh: could not start Slurm (scripts/services/slurm.sh)" >&2
    exit 1
  fi
else
  export SLIPWAY_TEST_SLURM_SKIP="starting Slurm needs root (munged runs as user munge, slurmd as root): run the suite as root, or through scripts/test-as-user.sh, or set SLIPWAY_TEST_SLURM_CONF to a running cluster's slurm.conf"
fi
export TMPDIR="$run_tmp/tmp"
# A home's server started by an in-process SDK call (`new Slipway(...).deploy()`) takes a free port, not
# the default 7878, which a test file running at the same time (or its own run in the backend matrix)
# may hold. The CLI sandbox (test/helpers/cli.ts) sets the same for the processes it starts; the docs
# runner passes no SLIPWAY_ variable on, so the documented outputs keep 7878.
export SLIPWAY_SERVER_PORT=0

files=()
args=()
matrix_only=0
for a in "$@"; do
  if [[ "$a" == *.test.ts ]]; then files+=("$a")
  elif [ "$a" = --backend-matrix ]; then matrix_only=1
  else args+=("$a"); fi
done
matrix_files=()
mapfile -t matrix_files < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' test/backend-matrix.txt | grep -v '^$')
# Whether the services the matrix needs run here (else: why not).
matrix_missing=""
[ -n "${SLIPWAY_TEST_PG_URL:-}" ] || matrix_missing+=" PostgreSQL"
[ -n "${SLIPWAY_TEST_S3_ENDPOINT:-}" ] || matrix_missing+=" S3 (Swift)"
[ -n "${SLIPWAY_TEST_SLURM_CONF:-}" ] || matrix_missing+=" Slurm"
run_matrix=0
if [ "$matrix_only" = 1 ]; then
  if [ -n "$matrix_missing" ]; then echo "test.sh: --backend-matrix needs PostgreSQL, S3 and Slurm; missing:$matrix_missing" >&2; exit 1; fi
  run_matrix=1
elif [ "${#files[@]}" -eq 0 ] && [ "${SLIPWAY_TEST_MATRIX:-1}" != 0 ] && [ -z "${SLIPWAY_TEST_BACKENDS:-}" ]; then
  if [ -z "$matrix_missing" ]; then run_matrix=1; else echo "test.sh: note: the backend matrix pass is skipped (missing:$matrix_missing)" >&2; fi
fi
if [ "$matrix_only" = 1 ] && [ "${#files[@]}" -gt 0 ]; then matrix_files=("${files[@]}"); fi
if [ "${#files[@]}" -eq 0 ]; then
  mapfile -t files < <(find src test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
fi
reporter="${SLIPWAY_TEST_REPORTER:-./scripts/test-reporter.mjs}"
status=0
matrix_pass() {
  SLIPWAY_TEST_BACKENDS=postgres,s3,slurm node --enable-source-maps --import tsx --test --test-concurrency="${SLIPWAY_TEST_MATRIX_CONCURRENCY:-3}" --test-reporter="$reporter" --test-reporter-destination=stdout "${args[@]}" "${matrix_files[@]}"
}
matrix_header() {
  echo "test.sh: the backend matrix: ${#matrix_files[@]} file(s) again with SLIPWAY_TEST_BACKENDS=postgres,s3,slurm (test/backend-matrix.txt)"
}
if [ "$matrix_only" = 1 ]; then
  matrix_header
  matrix_started=$SECONDS
  matrix_pass || status=$?
  echo "test.sh: the backend matrix pass took $((SECONDS - matrix_started)) s"
  exit "$status"
fi
# With the whole suite, the matrix runs beside it: its runs are Slurm batch jobs, so it mostly waits
# on the scheduler (about half a core), and its output is printed when both are done.
if [ "$run_matrix" = 1 ]; then
  matrix_started=$SECONDS
  ( rc=0; matrix_pass >"$run_tmp/matrix.out" 2>&1 || rc=$?; echo "$rc" >"$run_tmp/matrix.status"; echo $((SECONDS - matrix_started)) >"$run_tmp/matrix.seconds" ) &
  matrix_job=$!
  echo "test.sh: the backend matrix runs beside the suite (${#matrix_files[@]} file(s); its output follows the suite's)"
fi
# Three files at a time on CI's 2 cores: the tests wait on processes, servers and schedulers much of the
# time (at two, CI used ~60 % of the CPU).
node --enable-source-maps --import tsx --test --test-concurrency="${SLIPWAY_TEST_CONCURRENCY:-3}" --test-reporter="$reporter" --test-reporter-destination=stdout "${args[@]}" "${files[@]}" || status=$?
if [ "$run_matrix" = 1 ]; then
  wait "$matrix_job" || true
  echo
  matrix_header
  cat "$run_tmp/matrix.out"
  matrix_status="$(cat "$run_tmp/matrix.status" 2>/dev/null || echo 1)"
  [ "$matrix_status" = 0 ] || status=$matrix_status
  echo "test.sh: the backend matrix pass took $(cat "$run_tmp/matrix.seconds" 2>/dev/null || echo '?') s (beside the suite)"
fi
exit "$status"
