#!/usr/bin/env bash
# Starts and stops a throwaway single-node Slurm cluster for tests: its own munged, slurmctld and slurmd,
# everything on 127.0.0.1 and inside one folder (no file outside it is read or written besides the
# programs themselves), so it never meets a system Slurm or another test run's cluster.
#
#   scripts/services/slurm.sh start DIR    # prints SLURM_CONF=DIR/slurm.conf
#   scripts/services/slurm.sh stop DIR
#   scripts/services/slurm.sh status DIR   # prints SLURM_CONF=… and exits 0 when the cluster answers
#
# Needs root: munged runs as the `munge` user and slurmd must be root to start jobs as their users.
# Installs the Debian packages (slurmctld, slurmd, slurm-client, munge) when they are missing.
# DIR holds: slurm.conf (written from the template below), munge/ (key, socket, pid, log),
# state/ and spool/ (the daemons' state), log/, jobcomp.txt (every finished job: state and exit
# code, as no slurmdbd runs here), and the daemons' pid files.
#
# Made for speed, not realism: the scheduler runs on every submission (batch_sched_delay=0,
# sched_min_interval=0), the node claims 16 CPUs whatever the machine has (config_overrides), jobs
# share it (no cgroups: proctrack/linuxproc, task/none, so memory limits are not enforced), a job
# past its time limit gets 2 s between SIGTERM and SIGKILL (KillWait), and finished jobs stay
# visible to `scontrol show job` for 10 minutes (MinJobAge). Time limits are checked every ~30 s by
# slurmctld, whatever the configuration.
set -euo pipefail

die() { echo "slurm.sh: $*" >&2; exit 1; }
usage() { echo "usage: $0 start DIR | stop DIR | status DIR" >&2; exit 2; }

ensure_installed() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null; then
    return 0
  fi
  [[ "$(id -u)" == 0 ]] || die "Slurm is not installed and installing it needs root (apt-get install slurmctld slurmd slurm-client)"
  echo "slurm.sh: Slurm not found, installing slurmctld, slurmd and slurm-client with apt-get" >&2
  local pkgs=(slurmctld slurmd slurm-client munge)
  # Another apt-get may hold the lock (a parallel test run installing its own packages): wait for it.
  DEBIAN_FRONTEND=noninteractive apt-get install -o DPkg::Lock::Timeout=300 -y -qq --no-install-recommends "${pkgs[@]}" >&2 ||
    { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -o DPkg::Lock::Timeout=300 -y -qq --no-install-recommends "${pkgs[@]}" >&2; }
  command -v slurmctld >/dev/null || die "slurmctld still missing after installing the packages"
}

free_port() {
  node -e '
    const s = require("node:net").createServer();
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => console.log(p)); });
  '
}

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

answers() { SLURM_CONF="$DIR/slurm.conf" timeout 10 scontrol ping 2>/dev/null | grep -q "is UP"; }

node_idle() { SLURM_CONF="$DIR/slurm.conf" timeout 10 sinfo -h -N -o "%T" 2>/dev/null | grep -q -E "^(idle|mixed|allocated)"; }

write_conf() {
  local node ctld_port slurmd_port mem
  node="$(hostname -s)"
  ctld_port="$(free_port)"
  slurmd_port="$(free_port)"
  while [[ "$slurmd_port" == "$ctld_port" ]]; do slurmd_port="$(free_port)"; done
  # What the node offers in memory (MB): what this machine has, so `--mem` asks beyond it are refused.
  mem="$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 }' /proc/meminfo)"
  cat >"$DIR/slurm.conf" <<EOF
# Written by scripts/services/slurm.sh: a single-node cluster on 127.0.0.1 for tests.
ClusterName=slipway
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/jobcomp.txt
MinJobAge=600
KillWait=2
MaxArraySize=10001
MaxJobCount=100000
NodeName=$node NodeAddr=127.0.0.1 CPUs=16 RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
PartitionName=other Nodes=$node MaxTime=INFINITE State=UP
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SlurmdParameters=config_overrides
EOF
  chmod 644 "$DIR/slurm.conf"
}

start_munge() {
  local m="$DIR/munge"
  if pid_alive "$m/munged.pid"; then return 0; fi
  mkdir -p "$m"
  chown munge:munge "$m"
  chmod 755 "$m" # clients of every user reach the socket through it
  if [[ ! -f "$m/munge.key" ]]; then
    runuser -u munge -- dd if=/dev/urandom of="$m/munge.key" bs=1024 count=1 status=none
    chmod 600 "$m/munge.key"
  fi
  runuser -u munge -- /usr/sbin/munged --socket="$m/munge.socket" --key-file="$m/munge.key" \
    --pid-file="$m/munged.pid" --log-file="$m/munged.log" --seed-file="$m/munged.seed" ||
    { tail -n 20 "$m/munged.log" >&2 2>/dev/null; die "munged did not start"; }
}

cmd_start() {
  [[ "$(id -u)" == 0 ]] || die "starting Slurm needs root (munged runs as user munge, slurmd as root); run the tests as root, or start the cluster as root and export SLIPWAY_TEST_SLURM_CONF (scripts/test-as-user.sh does)"
  ensure_installed
  id munge >/dev/null 2>&1 || die "the munge user is missing (is the munge package installed?)"
  mkdir -p "$DIR"
  DIR="$(cd "$DIR" && pwd -P)"
  # The munge socket path is limited to 107 bytes.
  (( ${#DIR} <= 80 )) || die "$DIR is too long for a unix socket path; use a shorter folder"
  if pid_alive "$DIR/slurmctld.pid" && pid_alive "$DIR/slurmd.pid" && answers; then
    echo "SLURM_CONF=$DIR/slurm.conf"
    return 0
  fi
  chmod 755 "$DIR"
  mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
  [[ -f "$DIR/slurm.conf" ]] || write_conf
  start_munge
  export SLURM_CONF="$DIR/slurm.conf"
  # -i: ignore state left by an earlier start (a fresh cluster every time).
  pid_alive "$DIR/slurmctld.pid" || slurmctld -f "$SLURM_CONF" -i ||
    { tail -n 20 "$DIR/log/slurmctld.log" >&2 2>/dev/null; die "slurmctld did not start"; }
  pid_alive "$DIR/slurmd.pid" || slurmd -f "$SLURM_CONF" -N "$(hostname -s)" ||
    { tail -n 20 "$DIR/log/slurmd.log" >&2 2>/dev/null; die "slurmd did not start"; }
  local i
  for i in $(seq 1 100); do
    if answers && node_idle; then
      echo "SLURM_CONF=$SLURM_CONF"
      return 0
    fi
    sleep 0.1
  done
  tail -n 20 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 2>/dev/null || true
  die "the cluster did not come up within 10 s"
}

stop_pid() {
  local file="$1" pid i
  [[ -f "$file" ]] || return 0
  pid="$(cat "$file")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

cmd_stop() {
  [[ -d "$DIR" ]] || { echo "slurm.sh: $DIR does not exist, nothing to stop" >&2; return 0; }
  DIR="$(cd "$DIR" && pwd -P)"
  # slurmd first (it stops the job steps it runs), then the controller, then munge.
  stop_pid "$DIR/slurmd.pid"
  stop_pid "$DIR/slurmctld.pid"
  stop_pid "$DIR/munge/munged.pid"
  # Job steps that outlived slurmd (slurmstepd keeps running on its own): stop them by their spool folder.
  local p
  for p in $(pgrep -f "slurmstepd" 2>/dev/null || true); do
    if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "$DIR" || grep -qs "$DIR" "/proc/$p/environ"; then kill -KILL "$p" 2>/dev/null || true; fi
  done
  echo "slurm.sh: stopped the cluster in $DIR" >&2
}

cmd_status() {
  DIR="$(cd "$DIR" && pwd -P)"
  command -v scontrol >/dev/null || die "Slurm is not installed"
  if answers; then
    echo "SLURM_CONF=$DIR/slurm.conf"
    return 0
  fi
  echo "slurm.sh: not running" >&2
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
