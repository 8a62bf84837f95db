#!/usr/bin/env bash
# Starts and stops a throwaway PostgreSQL server for tests, listening on 127.0.0.1 only.
#
#   scripts/services/postgres.sh start DIR   # prints SLIPWAY_TEST_PG_URL=postgres://postgres@127.0.0.1:PORT/slipway_test
#   scripts/services/postgres.sh stop DIR
#
# DIR holds everything: data/ (the cluster), sock/ (unix socket), postgres.log, url, port.
# Run as root (initdb is then run as the `postgres` user through runuser) or as any non-root user
# (commands then run as that user). `start` on a DIR whose server is already running only prints the URL.
# Durability is switched off (fsync, synchronous_commit, full_page_writes): this server is for tests.
set -euo pipefail

DB_NAME="${SLIPWAY_TEST_PG_DB:-slipway_test}"

die() { echo "postgres.sh: $*" >&2; exit 1; }

usage() {
  echo "usage: $0 start DIR | stop DIR | status DIR" >&2
  exit 2
}

find_bindir() {
  # Highest major version that has initdb (the glob alone would sort "9" after "15").
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/initdb" ]] && echo "$d"
  done | sort -t/ -k5,5n | tail -n1
}

ensure_installed() {
  BINDIR="$(find_bindir)"
  if [[ -z "$BINDIR" ]]; then
    [[ "$(id -u)" == 0 ]] || die "PostgreSQL is not installed and installing it needs root"
    echo "postgres.sh: PostgreSQL not found, installing it with apt-get" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2 ||
      { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2; }
    BINDIR="$(find_bindir)"
    [[ -n "$BINDIR" ]] || die "initdb still missing after installing postgresql"
  fi
}

# Runs a PostgreSQL binary as the `postgres` user when we are root, else as ourselves.
# Runs from DIR so the tools never try to read root's current directory.
as_pg() {
  if [[ "$(id -u)" == 0 ]]; then
    (cd "$DIR" && runuser -u postgres -- "$@")
  else
    (cd "$DIR" && "$@")
  fi
}

free_port() {
  node -e '
    const s = require("node:net").createServer();
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => console.log(p)); });
  '
}

running() {
  [[ -f "$DIR/data/postmaster.pid" ]] && as_pg "$BINDIR/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1
}

print_url() {
  local url
  url="$(cat "$DIR/url")"
  echo "SLIPWAY_TEST_PG_URL=$url"
}

cmd_start() {
  ensure_installed
  mkdir -p "$DIR"
  DIR="$(cd "$DIR" && pwd -P)"
  # Unix socket paths are limited to 107 bytes ("DIR/sock/.s.PGSQL.PORT").
  (( ${#DIR} <= 80 )) || die "$DIR is too long for a unix socket path; use a shorter folder"
  if [[ "$(id -u)" == 0 ]]; then
    chown postgres: "$DIR"
    runuser -u postgres -- test -w "$DIR" ||
      die "$DIR is not reachable by the postgres user (is a parent folder private?); use a folder under /tmp"
  fi

  if running && [[ -f "$DIR/url" ]]; then
    print_url
    return 0
  fi

  if [[ ! -f "$DIR/data/PG_VERSION" ]]; then
    rm -rf "$DIR/data"
    as_pg "$BINDIR/initdb" -D "$DIR/data" -U postgres --auth=trust --no-sync --no-instructions \
      -E UTF8 --locale=C >"$DIR/initdb.log" 2>&1 ||
      { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
  fi
  as_pg mkdir -p "$DIR/sock"
  # A stale pid file from a killed server would make pg_ctl refuse to start.
  if [[ -f "$DIR/data/postmaster.pid" ]] && ! running; then rm -f "$DIR/data/postmaster.pid"; fi

  local port="" attempt started=0
  for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    if as_pg "$BINDIR/pg_ctl" -D "$DIR/data" -l "$DIR/postgres.log" -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k '$DIR/sock' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
      -w start >/dev/null; then
      started=1
      break
    fi
    # Most likely the port was taken between picking and binding; try another.
    echo "postgres.sh: start on port $port failed (attempt $attempt), retrying" >&2
    sleep 0.2
  done
  if [[ "$started" != 1 ]]; then
    tail -n 30 "$DIR/postgres.log" >&2 || true
    die "could not start PostgreSQL"
  fi

  local exists
  exists="$(as_pg "$BINDIR/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAq \
    -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")"
  if [[ "$exists" != 1 ]]; then
    as_pg "$BINDIR/createdb" -h 127.0.0.1 -p "$port" -U postgres "$DB_NAME"
  fi

  local url="postgres://postgres@127.0.0.1:$port/$DB_NAME"
  echo "$port" >"$DIR/port"
  echo "$url" >"$DIR/url"
  print_url
}

cmd_stop() {
  [[ -d "$DIR" ]] || { echo "postgres.sh: $DIR does not exist, nothing to stop" >&2; return 0; }
  DIR="$(cd "$DIR" && pwd -P)"
  local pidfile="$DIR/data/postmaster.pid"
  if [[ ! -f "$pidfile" ]]; then
    echo "postgres.sh: no server running in $DIR" >&2
    return 0
  fi
  local pid
  pid="$(head -n1 "$pidfile")"
  BINDIR="$(find_bindir)"
  if [[ -n "$BINDIR" ]] && as_pg "$BINDIR/pg_ctl" -D "$DIR/data" stop -m fast -w -t 30 >/dev/null 2>&1; then
    echo "postgres.sh: stopped server $pid in $DIR" >&2
    return 0
  fi
  # pg_ctl failed (or is gone): signal the postmaster named by the pid file directly.
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    kill -INT "$pid" 2>/dev/null || true # SIGINT = fast shutdown
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -QUIT "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$pidfile"
  echo "postgres.sh: stopped server $pid in $DIR" >&2
}

cmd_status() {
  DIR="$(cd "$DIR" && pwd -P)"
  BINDIR="$(find_bindir)"
  [[ -n "$BINDIR" ]] || die "PostgreSQL is not installed"
  if running; then
    [[ -f "$DIR/url" ]] && print_url
    return 0
  fi
  echo "postgres.sh: not running" >&2
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
