#!/usr/bin/env bash
# Starts and stops a throwaway S3-compatible object store for tests: OpenStack Swift (Debian's
# packages) with its s3api middleware and tempauth, one replica, listening on 127.0.0.1 only. It is
# a real server — the same proxy, account, container and object servers a Swift cluster runs — not
# a fake.
#
#   scripts/services/swift.sh start DIR    # prints SLIPWAY_TEST_S3_ENDPOINT=http://127.0.0.1:PORT and the
#                                          # SLIPWAY_TEST_S3_{REGION,ACCESS_KEY_ID,SECRET_ACCESS_KEY} lines
#   scripts/services/swift.sh stop DIR
#   scripts/services/swift.sh status DIR
#
# DIR holds everything: etc/ (rings and the servers' configuration), srv/d1 (the one device),
# log/ (one file per server), run/ (pid files) and env (the lines `start` prints). Five free ports
# are chosen: memcached, the account, container and object servers, and the proxy (the S3 endpoint);
# and a sixth that nobody listens on, where Swift's syslog packets go (there is no /dev/log here).
# The servers run as the user who starts them (root included). The access key is `test:tester`,
# the secret `testing` (tempauth's `user_test_tester = testing .admin`).
#
# Swift reads /etc/swift/swift.conf (the path is fixed in Swift's code): Debian's swift package
# installs one; when it is absent, `start` writes a minimal one (as root; without root it fails
# with that reason). An existing /etc/swift/swift.conf is never changed.
#
# When the packages are missing, `start` installs them with apt-get as root (swift swift-proxy
# swift-account swift-container swift-object memcached, about a minute); without root it fails
# with the command to run.
set -euo pipefail

REGION="us-east-1"
ACCESS_KEY="test:tester"
SECRET_KEY="testing"
PACKAGES=(swift swift-proxy swift-account swift-container swift-object memcached)
SERVERS=(account container object proxy)

die() { echo "swift.sh: $*" >&2; exit 1; }

usage() {
  echo "usage: $0 start DIR | stop DIR | status DIR" >&2
  exit 2
}

installed() {
  command -v memcached >/dev/null && command -v swift-ring-builder >/dev/null &&
    command -v swift-proxy-server >/dev/null && command -v swift-account-server >/dev/null &&
    command -v swift-container-server >/dev/null && command -v swift-object-server >/dev/null
}

ensure_installed() {
  if ! installed; then
    [[ "$(id -u)" == 0 ]] || die "OpenStack Swift is not installed and installing it needs root (apt-get install ${PACKAGES[*]})"
    echo "swift.sh: OpenStack Swift not found, installing it with apt-get (about a minute)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${PACKAGES[@]}" >&2 ||
      { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${PACKAGES[@]}" >&2; }
    installed || die "the Swift servers are still missing after installing ${PACKAGES[*]}"
  fi
  if [[ ! -f /etc/swift/swift.conf ]]; then
    [[ "$(id -u)" == 0 ]] || die "/etc/swift/swift.conf is missing (Swift reads it from that fixed path) and writing it needs root"
    echo "swift.sh: /etc/swift/swift.conf is missing; writing a minimal one (hash path prefix/suffix, one storage policy)" >&2
    mkdir -p /etc/swift
    cat >/etc/swift/swift.conf <<EOF
# Written by slipway's scripts/services/swift.sh because it was absent; the test servers need it.
[swift-hash]
swift_hash_path_suffix = slipway-test
swift_hash_path_prefix = slipway-test

[storage-policy:0]
name = Policy-0
default = yes
EOF
    chmod 644 /etc/swift/swift.conf
  fi
  [[ -r /etc/swift/swift.conf ]] || die "/etc/swift/swift.conf is not readable by $(id -un)"
}

free_ports() {
  node -e '
    const net = require("node:net");
    const servers = [];
    const open = () => new Promise((res) => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => { servers.push(s); res(s.address().port); }); });
    (async () => {
      const ports = [];
      for (let i = 0; i < Number(process.argv[1]); i++) ports.push(await open());
      for (const s of servers) s.close();
      console.log(ports.join(" "));
    })();
  ' "$1"
}

pid_alive() {
  local f="$DIR/run/$1.pid" pid
  [[ -f "$f" ]] || return 1
  pid="$(cat "$f")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

running() {
  local s
  pid_alive memcached || return 1
  for s in "${SERVERS[@]}"; do pid_alive "$s" || return 1; done
}

# The common [DEFAULT] of every server: 127.0.0.1 only, one process, the folder's rings and device,
# no mount check, logs on stderr (-v) and not to syslog (no /dev/log here: Swift would send UDP).
defaults() {
  cat <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $1
workers = 0
user = $(id -un)
swift_dir = $DIR/etc
devices = $DIR/srv
mount_check = false
log_level = WARNING
log_udp_host = 127.0.0.1
log_udp_port = $LOG_PORT
EOF
}

write_configs() {
  local mc_port="$1" account_port="$2" container_port="$3" object_port="$4" proxy_port="$5"
  mkdir -p "$DIR/etc" "$DIR/srv/d1" "$DIR/log" "$DIR/run"

  { defaults "$account_port"; cat <<EOF

[pipeline:main]
pipeline = healthcheck account-server

[app:account-server]
use = egg:swift#account

[filter:healthcheck]
use = egg:swift#healthcheck
EOF
  } >"$DIR/etc/account-server.conf"

  { defaults "$container_port"; cat <<EOF

[pipeline:main]
pipeline = healthcheck container-server

[app:container-server]
use = egg:swift#container

[filter:healthcheck]
use = egg:swift#healthcheck
EOF
  } >"$DIR/etc/container-server.conf"

  { defaults "$object_port"; cat <<EOF

[pipeline:main]
pipeline = healthcheck object-server

[app:object-server]
use = egg:swift#object

[filter:healthcheck]
use = egg:swift#healthcheck
EOF
  } >"$DIR/etc/object-server.conf"

  # s3api before tempauth; slo after it (multipart uploads are stored as static large objects).
  { defaults "$proxy_port"; cat <<EOF

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo versioned_writes proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$mc_port

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:bulk]
use = egg:swift#bulk

[filter:s3api]
use = egg:swift#s3api
location = $REGION
# Path-style addresses only (http://127.0.0.1:PORT/BUCKET/KEY).
dns_compliant_bucket_names = true

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = $SECRET_KEY .admin

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo

[filter:versioned_writes]
use = egg:swift#versioned_writes
EOF
  } >"$DIR/etc/proxy-server.conf"

  # The three rings (2^8 partitions, 1 replica, one device on each server's port), built in one
  # Python process with Swift's RingBuilder: what `swift-ring-builder X.builder create 8 1 1; add
  # r1z1-127.0.0.1:PORT/d1 100; rebalance` does, without paying Python's start-up nine times.
  /usr/bin/python3 - "$DIR/etc" "$account_port" "$container_port" "$object_port" <<'PY' || die "building the rings failed"
import sys
from swift.common.ring import RingBuilder
etc, ports = sys.argv[1], dict(zip(("account", "container", "object"), map(int, sys.argv[2:5])))
for name, port in ports.items():
    builder = RingBuilder(8, 1, 1)
    builder.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": port, "device": "d1", "weight": 100})
    builder.rebalance()
    builder.get_ring().save(f"{etc}/{name}.ring.gz")
PY
}

# Starts CMD… in the background, detached from our stdout (callers capture it with $(…)), pid to run/NAME.pid.
spawn() {
  local name="$1"
  shift
  (cd "$DIR" && exec "$@" </dev/null >>"$DIR/log/$name.log" 2>&1) &
  echo $! >"$DIR/run/$name.pid"
}

# Whether the server on PORT answers GET /healthcheck with 200 (bash's /dev/tcp: no curl needed).
healthy() {
  local line=""
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf 'GET /healthcheck HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
  IFS= read -r -t 5 line <&3 || true
  exec 3<&- 3>&-
  [[ "$line" == "HTTP/1."?" 200"* ]]
}

wait_ready() {
  local deadline=$((SECONDS + 120)) s port ok
  while ((SECONDS < deadline)); do
    ok=1
    for s in "${SERVERS[@]}"; do
      pid_alive "$s" || { tail -n 30 "$DIR/log/$s.log" >&2 || true; die "the $s server exited during start (log above, $DIR/log/$s.log)"; }
      port="$(cat "$DIR/run/$s.port")"
      healthy "$port" || { ok=0; break; }
    done
    if [[ "$ok" == 1 ]]; then return 0; fi
    sleep 0.2
  done
  die "the Swift servers did not answer within 120 s (logs in $DIR/log)"
}

print_env() {
  cat "$DIR/env"
}

cmd_start() {
  ensure_installed
  mkdir -p "$DIR"
  DIR="$(cd "$DIR" && pwd -P)"
  if running && [[ -f "$DIR/env" ]]; then
    print_env
    return 0
  fi
  cmd_stop_quiet
  local ports
  read -r -a ports <<<"$(free_ports 6)"
  local mc_port="${ports[0]}" account_port="${ports[1]}" container_port="${ports[2]}" object_port="${ports[3]}" proxy_port="${ports[4]}"
  LOG_PORT="${ports[5]}" # nobody listens there: Swift's syslog packets go nowhere
  write_configs "$mc_port" "$account_port" "$container_port" "$object_port" "$proxy_port"
  echo "$account_port" >"$DIR/run/account.port"
  echo "$container_port" >"$DIR/run/container.port"
  echo "$object_port" >"$DIR/run/object.port"
  echo "$proxy_port" >"$DIR/run/proxy.port"

  local mc_user=()
  [[ "$(id -u)" == 0 ]] && mc_user=(-u "$(id -un)")
  spawn memcached memcached -l 127.0.0.1 -p "$mc_port" -U 0 -m 64 "${mc_user[@]}"
  local s
  for s in account container object proxy; do
    spawn "$s" "swift-$s-server" "$DIR/etc/$s-server.conf" -v
  done
  wait_ready

  cat >"$DIR/env" <<EOF
SLIPWAY_TEST_S3_ENDPOINT=http://127.0.0.1:$proxy_port
SLIPWAY_TEST_S3_REGION=$REGION
SLIPWAY_TEST_S3_ACCESS_KEY_ID=$ACCESS_KEY
SLIPWAY_TEST_S3_SECRET_ACCESS_KEY=$SECRET_KEY
EOF
  print_env
}

stop_one() {
  local name="$1" f="$DIR/run/$1.pid" pid
  [[ -f "$f" ]] || return 0
  pid="$(cat "$f")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    STOPPED+=("$name $pid")
  fi
  rm -f "$f"
}

cmd_stop_quiet() {
  STOPPED=()
  local s
  for s in proxy object container account memcached; do stop_one "$s"; done
}

cmd_stop() {
  [[ -d "$DIR" ]] || { echo "swift.sh: $DIR does not exist, nothing to stop" >&2; return 0; }
  DIR="$(cd "$DIR" && pwd -P)"
  cmd_stop_quiet
  if [[ "${#STOPPED[@]}" -eq 0 ]]; then
    echo "swift.sh: no server running in $DIR" >&2
  else
    echo "swift.sh: stopped ${STOPPED[*]} in $DIR" >&2
  fi
}

cmd_status() {
  DIR="$(cd "$DIR" && pwd -P)"
  if running; then
    print_env
    return 0
  fi
  echo "swift.sh: not running" >&2
  return 3
}

[[ $# -eq 2 ]] || usage
DIR="$2"
case "$1" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) usage ;;
esac
