#!/usr/bin/env bash
# Start a single-node SLURM cluster for the project's tests and CI, by hand, without systemd:
# munged, MariaDB (127.0.0.1), slurmdbd, slurmctld and slurmd, all loopback-only, all state,
# logs and pid files under one directory. Idempotent: if it is already up, it only says so.
#
#   scripts/slurm/start.sh            # then: source /tmp/bam-slurm/env   (sets SLURM_CONF)
#   scripts/slurm/stop.sh             # ends exactly the daemons this script started
#
# Install is the CI's job: apt-get install -y slurm-wlm munge slurmdbd mariadb-server
# Writes one file outside the state dir: the symlink /etc/slurm/slurm.conf (if absent; stop.sh
# removes it). Settings (environment): BAM_SLURM_DIR (state dir, default /tmp/bam-slurm), BAM_SLURM_PARTITION
# (debug), BAM_SLURM_ACCOUNT (bam), BAM_SLURM_PORT_BASE (6817: slurmctld, +1 slurmd, +2 slurmdbd,
# +3 MariaDB).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
state=${BAM_SLURM_DIR:-/tmp/bam-slurm}
partition=${BAM_SLURM_PARTITION:-debug}
account=${BAM_SLURM_ACCOUNT:-bam}
base=${BAM_SLURM_PORT_BASE:-6817}
user=$(id -un)
export SLURM_CONF=$state/etc/slurm.conf

say() { echo "bam-slurm: $*" >&2; }
die() { say "error: $*"; exit 1; }
alive() { [[ -s $state/run/$1.pid ]] && kill -0 "$(cat "$state/run/$1.pid")" 2>/dev/null; }
# wait_for SECONDS WHAT CMD...: poll CMD every 0.1 s; on timeout name the daemon and its log.
wait_for() {
    local secs=$1 what=$2; shift 2
    local end=$((SECONDS + secs))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < end)) || die "$what did not come up in ${secs}s; see $state/log/$what.log"
        sleep 0.1
    done
}

# Inside a job, the executor plugin's job step runs `srun` with every SLURM_* variable removed,
# SLURM_CONF included, so srun finds the config only at the compiled-in path: link it there.
link_conf() {
    local etc_conf=/etc/slurm/slurm.conf
    if [[ ! -e $etc_conf && ! -L $etc_conf ]]; then
        { mkdir -p /etc/slurm && ln -s "$state/etc/slurm.conf" "$etc_conf"; } 2>/dev/null \
            || say "warning: cannot link $etc_conf (not root?); srun inside jobs will not find the config"
    elif [[ $(readlink "$etc_conf") != "$state/etc/slurm.conf" ]]; then
        say "warning: $etc_conf exists and is not ours; srun inside jobs will read it"
    fi
}

for bin in munged mariadbd mariadb-install-db slurmdbd slurmctld slurmd sacctmgr scontrol; do
    command -v "$bin" >/dev/null || die "$bin not found; install: apt-get install -y slurm-wlm munge slurmdbd mariadb-server"
done

if alive munged && alive mariadbd && alive slurmdbd && alive slurmctld && alive slurmd \
    && scontrol ping >/dev/null 2>&1; then
    link_conf
    say "already running (state in $state)"
    echo "export SLURM_CONF=$SLURM_CONF"
    exit 0
fi

mkdir -p "$state"/{etc,run,log,spool/ctld,spool/d}
chmod 755 "$state" "$state/run"  # munged wants its socket dir searchable by all

# The node as slurmd sees it; RealMemory must stay below the real memory or the node is invalid.
node=$(slurmd -C | head -1)
layout=$(tr ' ' '\n' <<<"$node" | grep -E '^(CPUs|Boards|SocketsPerBoard|CoresPerSocket|ThreadsPerCore)=' | xargs)
real_mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node")
real_mem=$((real_mem * 9 / 10))
cpus=$(nproc)
def_mem=$((real_mem / cpus / 4))

render() {  # render TEMPLATE OUT: fill the @KEY@ placeholders
    sed -e "s|@STATE@|$state|g" -e "s|@USER@|$user|g" -e "s|@PARTITION@|$partition|g" \
        -e "s|@CTLD_PORT@|$base|g" -e "s|@SLURMD_PORT@|$((base + 1))|g" \
        -e "s|@DBD_PORT@|$((base + 2))|g" -e "s|@DB_PORT@|$((base + 3))|g" \
        -e "s|@NODE_LAYOUT@|$layout|g" -e "s|@REAL_MEM@|$real_mem|g" -e "s|@DEF_MEM@|$def_mem|g" \
        "$here/$1" >"$2"
}
render slurm.conf.in "$state/etc/slurm.conf"
link_conf
render slurmdbd.conf.in "$state/etc/slurmdbd.conf"
render mariadb.conf.in "$state/etc/my.cnf"
chmod 600 "$state/etc/slurmdbd.conf"

# munged, with a key of its own (munged insists the key belongs to the user running it).
if [[ ! -s $state/etc/munge.key ]]; then
    head -c 1024 /dev/urandom >"$state/etc/munge.key"
    chmod 400 "$state/etc/munge.key"
fi
if ! alive munged; then
    munged --force --socket="$state/run/munge.socket" --key-file="$state/etc/munge.key" \
        --pid-file="$state/run/munged.pid" --log-file="$state/log/munged.log" \
        --seed-file="$state/run/munged.seed" 2>>"$state/log/munged.log" \
        || die "munged failed; see $state/log/munged.log"
fi

# MariaDB for slurmdbd, data in the state dir, listening on 127.0.0.1 only.
if [[ ! -d $state/mysql/mysql ]]; then
    mariadb-install-db --defaults-file="$state/etc/my.cnf" --auth-root-authentication-method=normal \
        --skip-test-db >"$state/log/mariadb-install.log" 2>&1 \
        || die "mariadb-install-db failed; see $state/log/mariadb-install.log"
fi
if ! alive mariadbd; then
    nohup mariadbd --defaults-file="$state/etc/my.cnf" </dev/null >/dev/null 2>&1 &
    wait_for 60 mariadbd mariadb-admin --defaults-file="$state/etc/my.cnf" --protocol=socket \
        --socket="$state/run/mysqld.sock" -uroot ping
fi

# slurmdbd reads slurmdbd.conf beside $SLURM_CONF.
alive slurmdbd || slurmdbd || die "slurmdbd failed; see $state/log/slurmdbd.log"
wait_for 60 slurmdbd sacctmgr -n show cluster

# The cluster, an account and this user, so jobs pass AccountingStorageEnforce=associations and
# the executor plugin has an explicit account (no account-guessing error).
[[ -n $(sacctmgr -n -P show cluster bam format=cluster) ]] || sacctmgr -i add cluster bam >/dev/null
[[ -n $(sacctmgr -n -P show account "$account" format=account) ]] \
    || sacctmgr -i add account "$account" cluster=bam description=tests organization=bam >/dev/null
[[ -n $(sacctmgr -n -P show assoc where user="$user" account="$account" format=user) ]] \
    || sacctmgr -i add user "$user" account="$account" defaultaccount="$account" cluster=bam >/dev/null

alive slurmctld || slurmctld || die "slurmctld failed; see $state/log/slurmctld.log"
wait_for 30 slurmctld scontrol ping
alive slurmd || slurmd -N localhost || die "slurmd failed; see $state/log/slurmd.log"
# A node left down or drained by an earlier, killed run comes back (an error if it is already idle).
scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true
node_up() { sinfo -h -n localhost -o %T | grep -Eq '^(idle|mixed|allocated)'; }
wait_for 30 slurmd node_up
say "up: partition $partition, account $account, state in $state"
echo "export SLURM_CONF=$SLURM_CONF" | tee "$state/env"
