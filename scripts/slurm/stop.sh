#!/usr/bin/env bash
# Stop the single-node SLURM that scripts/slurm/start.sh started: exactly those daemons, by the
# pids in its state dir, in reverse start order. `--purge` also deletes the state dir (database,
# job state, logs). Settings: BAM_SLURM_DIR (default /tmp/bam-slurm).
set -euo pipefail

state=${BAM_SLURM_DIR:-/tmp/bam-slurm}
say() { echo "bam-slurm: $*" >&2; }

stop() {  # stop NAME: TERM the pid in NAME.pid if that process is NAME, wait, then KILL
    local name=$1 pidfile=$state/run/$1.pid pid
    [[ -s $pidfile ]] || return 0
    pid=$(cat "$pidfile")
    # A stale pid file may name a pid reused by another program: check the command name.
    if kill -0 "$pid" 2>/dev/null && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$name" ]]; then
        kill -TERM "$pid"
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            say "$name ($pid) ignored SIGTERM for 10 s; sending SIGKILL"
            kill -KILL "$pid"
        fi
        say "stopped $name ($pid)"
    fi
    rm -f "$pidfile"
}

for name in slurmd slurmctld slurmdbd mariadbd munged; do stop "$name"; done
# The config symlink start.sh made, only if it still points into our state dir.
if [[ -L /etc/slurm/slurm.conf && $(readlink /etc/slurm/slurm.conf) == "$state/etc/slurm.conf" ]]; then
    rm -f /etc/slurm/slurm.conf
fi
if [[ ${1:-} == --purge ]]; then
    rm -rf "$state"
    say "removed $state"
fi
