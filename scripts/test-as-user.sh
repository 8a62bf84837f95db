#!/usr/bin/env bash
# Runs the test suite (scripts/test.sh, with any arguments) as an unprivileged user, so that what root
# is allowed regardless of file modes (reading a 000 file, writing a 500 folder) is tested as a user
# meets it, and nothing in the suite depends on being root. CI runs it after `npm test` (.ci/run).
#
#   scripts/test-as-user.sh                       # the whole suite, as user slipway-test
#   scripts/test-as-user.sh test/integration/artifacts.test.ts
#   SLIPWAY_TEST_USER=someone scripts/test-as-user.sh
#
# Run as root: it creates the user (with a home folder, for npm's cache) if it does not exist, and
# installs and builds as root first, since the user cannot write this repository. The repository
# must be readable by the user (it is with the usual umask 022).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "test-as-user.sh: run it as root (it switches to an unprivileged user); as a non-root user, run scripts/test.sh" >&2
  exit 2
fi
user="${SLIPWAY_TEST_USER:-slipway-test}"
if ! id -u "$user" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash "$user"
fi
home="$(getent passwd "$user" | cut -d: -f6)"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent

if ! runuser -u "$user" -- test -r package.json -a -x node_modules/.bin/tsx; then
  echo "test-as-user.sh: $user cannot read $(pwd); make it readable (chmod -R o+rX) or use a clone in a readable place" >&2
  exit 1
fi

# Only the PATH entries the user can use (root's own, e.g. a pyenv under /root, are left out).
path=""
IFS=: read -r -a entries <<<"$PATH"
for d in "${entries[@]}"; do
  if [ -n "$d" ] && runuser -u "$user" -- test -x "$d"; then path="${path:+$path:}$d"; fi
done

# A clean environment, keeping what reaching the npm registry may need (a proxy, its CA certificates).
# SLIPWAY_TEST_MATRIX=0: the backend matrix pass (scripts/test.sh) runs once in CI, in the root pass.
keep=(HOME="$home" USER="$user" LOGNAME="$user" PATH="$path" LANG="${LANG:-C.UTF-8}" SLIPWAY_TEST_MATRIX="${SLIPWAY_TEST_MATRIX:-0}")
for v in CI TERM NO_COLOR NODE_EXTRA_CA_CERTS SSL_CERT_FILE SSL_CERT_DIR HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy npm_config_registry; do
  if [ -n "${!v:-}" ]; then keep+=("$v=${!v}"); fi
done
# Slurm's daemons need root (munged as user munge, slurmd as root, which starts each job as its user),
# so the cluster is started here, as root, and the user's test run submits to it: the Slurm executor is
# tested as a user meets it, jobs running under the user's uid. It is stopped when the tests end.
slurm_dir=""
stop_slurm() { if [ -n "$slurm_dir" ]; then scripts/services/slurm.sh stop "$slurm_dir/cluster" >/dev/null 2>&1 || true; rm -rf "$slurm_dir"; fi; }
trap stop_slurm EXIT
slurm_dir="$(mktemp -d /tmp/slipway-slurm.XXXXXX)"
chmod 755 "$slurm_dir"
if slurm_conf="$(scripts/services/slurm.sh start "$slurm_dir/cluster")"; then
  keep+=("SLIPWAY_TEST_SLURM_CONF=${slurm_conf#SLURM_CONF=}")
else
  keep+=("SLIPWAY_TEST_SLURM_SKIP=scripts/services/slurm.sh could not start the cluster as root (see its output above)")
fi

echo "test-as-user.sh: running the tests as $user ($(runuser -u "$user" -- id -u)), HOME=$home"
runuser -u "$user" -- env -i "${keep[@]}" bash scripts/test.sh "$@"
