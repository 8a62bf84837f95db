#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs dependencies, builds, starts the services the tests
# need on 127.0.0.1 in temporary folders (PostgreSQL for the state conformance suite), runs every
# test, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent

# Layers point down only, and running code has no import cycles (.dependency-cruiser.cjs).
npm run check:layers --silent

# The artifact tests build wheels and make environments with Debian's python3 (setuptools, wheel, pip, venv).
if ! /usr/bin/python3 -c 'import ensurepip, pip, setuptools, venv, wheel' >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-wheel python3-pip python3-setuptools >/dev/null
fi

services="$(mktemp -d /tmp/slipway-services.XXXXXX)"
chmod 755 "$services"
cleanup() {
  scripts/services/postgres.sh stop "$services/pg" >/dev/null 2>&1 || true
  rm -rf "$services"
}
trap cleanup EXIT

export "$(scripts/services/postgres.sh start "$services/pg")"

mapfile -t files < <(find src test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
node --import tsx --test --test-concurrency=2 "$@" "${files[@]}"
