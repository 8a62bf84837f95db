#!/usr/bin/env bash
# A person's choice, separate from CI: install one published version into one compute environment of
# one target. A version that does not exist fails (exit 2) listing the ones that do; nothing changes.
#
#   ./install.sh 2.6.11 etl-cluster val
set -euo pipefail
cd "$(dirname "$0")"
SLIPWAY="${SLIPWAY:-node ../../bin/slipway.cjs}"
[ $# -eq 3 ] || { echo "usage: $0 VERSION ENVIRONMENT TARGET" >&2; exit 2; }

$SLIPWAY artifacts install "dqm@$1" --into "$2" -t "$3"
$SLIPWAY artifacts list dqm -t "$3"
