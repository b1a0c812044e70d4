#!/usr/bin/env bash
# Run, or resume after any interruption, a study in its own git worktree, on that worktree's own bam_core
# (PYTHONPATH: the installed package may be an editable install of another checkout, which would otherwise
# be what the Snakefile and every `bam` job import): one training job at a time on 2 cores, at nice 10,
# runs cut short resuming from their checkpoints (--rerun-incomplete reruns the job, `bam train` picks up
# its checkpoint). A lock left by a Snakemake that was killed is removed first; a Snakemake still running in
# the worktree is refused. Records the worktree's commit in STUDY_COMMIT for publish_study.sh, and in
# study.log when each start was last seen running (study.alive, rewritten every minute): a run's metrics.json
# counts its wall time from its last checkpoint's, so the log is what gives an interrupted study's hours.
# With --estimate-after, once the runs are done it prices the same plan (`snakemake estimate`: a
# calibration on this machine, best with nothing else running) and rebuilds the cost table, which then
# sets the estimate beside the measured hours.
#   git worktree add -b study-glue8-minilm /work/study-glue8 && cd /work/study-glue8
#   python -c "import all_minilm_l6_v2 as m; m.extract_model('models')"
#   nohup bash scripts/run_study.sh workflow/configs/glue8-minilm.yaml --estimate-after &    # log: study.log
set -euo pipefail
# nice orders processes only within one autogroup (each setsid starts one), and the kernel shares the CPU
# equally between autogroups. So the study takes an autogroup of its own, niced as a whole, to yield.
[ "$(cut -d' ' -f6 /proc/$$/stat)" = $$ ] || exec setsid --wait bash "$0" "$@"
{ echo 10 > /proc/self/autogroup; } 2>/dev/null || true
CONFIG=${1:?give the study config, e.g. workflow/configs/glue8-minilm.yaml}
ESTIMATE_AFTER=${2:-}
cd "$(git rev-parse --show-toplevel)"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
python -c 'import bam_core, os, sys; sys.exit(os.path.dirname(bam_core.__file__) != os.path.join(os.getcwd(), "bam_core"))' \
    || { echo "bam_core does not import from $PWD" >&2; exit 1; }
running=$(for pid in $(pgrep -f snakemake || true); do
    [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" != "$PWD" ] || echo "$pid"; done)
[ -z "$running" ] || { echo "Snakemake already runs in $PWD (pid $(echo $running))" >&2; exit 1; }
[ ! -f study.alive ] || echo "$(cat study.alive) last seen running" >> study.log
if [ -n "$(ls -A .snakemake/locks 2>/dev/null)" ]; then
    echo "$(date -u '+%F %T') removing the lock of an interrupted run" >> study.log
    snakemake --unlock --configfile "$CONFIG" >> study.log 2>&1
fi
git rev-parse HEAD > STUDY_COMMIT
echo "$(date -u '+%F %T') start at $(cat STUDY_COMMIT)" >> study.log
while sleep 60; do date -u '+%F %T' > study.alive.tmp && mv study.alive.tmp study.alive; done > /dev/null 2>&1 &
ALIVE=$!
trap 'kill $ALIVE 2>/dev/null; rm -f study.alive' EXIT
nice -n 10 snakemake --cores 2 --rerun-incomplete --configfile "$CONFIG" >> study.log 2>&1
if [ "$ESTIMATE_AFTER" = --estimate-after ]; then
    snakemake estimate --cores 2 --rerun-incomplete --configfile "$CONFIG" >> study.log 2>&1
    snakemake --cores 2 --configfile "$CONFIG" >> study.log 2>&1
fi
echo "$(date -u '+%F %T') done" >> study.log
