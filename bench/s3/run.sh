#!/usr/bin/env bash
# Bytes uploaded to an S3-compatible store per change (issue 17, point 1): a bundle of BENCH_S3_MB
# (default 1024) captured into a bucket, then one 1 KiB file changed and captured again. The store is
# a real one: OpenStack Swift with its s3api middleware on 127.0.0.1 (scripts/services/swift.sh, started
# here in a temp folder and stopped at the end), unless BENCH_S3_ENDPOINT names another (then
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are used as they are).
#   bash bench/s3/run.sh
#   BENCH_S3_MB=256 bash bench/s3/run.sh
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
mkdir -p bench/out
if [[ -z "${BENCH_S3_ENDPOINT:-}" ]]; then
  svc="$(mktemp -d "${TMPDIR:-/tmp}/slipway-bench-swift.XXXXXX")"
  trap 'scripts/services/swift.sh stop "$svc" >/dev/null 2>&1 || true; rm -rf "$svc"' EXIT
  while IFS= read -r line; do [[ -n "$line" ]] && export "${line?}"; done < <(scripts/services/swift.sh start "$svc")
  export BENCH_S3_ENDPOINT="$SLIPWAY_TEST_S3_ENDPOINT" BENCH_S3_REGION="$SLIPWAY_TEST_S3_REGION"
  export AWS_ACCESS_KEY_ID="$SLIPWAY_TEST_S3_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$SLIPWAY_TEST_S3_SECRET_ACCESS_KEY"
fi
node --import tsx "$HERE/run.mjs" | tee "$ROOT/bench/out/s3.txt"
