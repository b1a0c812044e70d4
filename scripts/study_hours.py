"""The hours a study's training runs took, read from its study.log, across interruptions.

    python scripts/study_hours.py /work/study-glue8/study.log

A run's metrics.json counts its wall time from its last checkpoint's, so the cost table undercounts runs
interrupted between two checkpoints, and a study interrupted many times. study.log (scripts/run_study.sh)
has what is missing: Snakemake's time of every training job's start and end, each start of the study and,
after an interruption, when that start was last seen running. An attempt lasts from its job's start to its
end (finished or failed) or else to its start's last-seen time; one with neither is counted as unknown.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime

import pandas as pd

START = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) start at ")
LAST_SEEN = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) last seen running$")
DONE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) done$")
STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
JOBID = re.compile(r"^\s+jobid: (\d+)$")
WILDCARDS = re.compile(r"^\s+wildcards: variant=([^,]+), seed=([^,]+), group=(\S+)$")
FINISHED = re.compile(r"^Finished jobid: (\d+) \(Rule: train\)$")


def iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")


def spans(lines) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per training attempt: variant, seed, group, start, end, how it ended; one row per start of
    the study: start, end, how it ended)."""
    attempts, starts = [], []
    open_jobs: dict[str, dict] = {}  # jobid -> attempt, in the current start
    stamp, rule, jobid = None, None, None

    def close_start(end, how):
        for attempt in open_jobs.values():
            attempt.update(end=end, ended=how if end is not None else "unknown")
        open_jobs.clear()
        if starts and starts[-1]["end"] is None:
            starts[-1].update(end=end or stamp or starts[-1]["start"],
                              ended=how if end is not None else "last job event" if stamp else "no job")

    for line in lines:
        line = line.rstrip("\n")
        if m := START.match(line):
            close_start(None, None)
            starts.append({"start": iso(m[1]), "end": None, "ended": None})
            stamp = None
        elif m := LAST_SEEN.match(line):
            close_start(iso(m[1]), "last seen running")
        elif m := DONE.match(line):
            close_start(iso(m[1]), "done")
        elif m := STAMP.match(line):
            stamp, rule = datetime.strptime(m[1], "%a %b %d %H:%M:%S %Y"), None
        elif line in ("localrule train:", "rule train:", "Error in rule train:"):
            rule = line
        elif (m := JOBID.match(line)) and rule:
            jobid = m[1]
            if rule == "Error in rule train:" and jobid in open_jobs:
                open_jobs.pop(jobid).update(end=stamp, ended="failed")
                rule = None
        elif (m := WILDCARDS.match(line)) and rule in ("localrule train:", "rule train:"):
            attempt = {"variant": m[1], "seed": m[2], "group": m[3], "start": stamp, "end": None, "ended": None}
            attempts.append(attempt)
            open_jobs[jobid] = attempt
            rule = None
        elif (m := FINISHED.match(line)) and m[1] in open_jobs:
            open_jobs.pop(m[1]).update(end=stamp, ended="finished")
    close_start(None, None)
    columns = ["variant", "seed", "group", "start", "end", "ended"]
    return pd.DataFrame(attempts, columns=columns), pd.DataFrame(starts, columns=["start", "end", "ended"])


def per_variant(attempts: pd.DataFrame) -> pd.DataFrame:
    """Per variant: runs finished, attempts, hours of the attempts whose end is known, attempts without one."""
    known = attempts.dropna(subset=["end"])
    hours = ((known["end"] - known["start"]).dt.total_seconds() / 3600).groupby(known["variant"]).sum()
    finished = attempts[attempts["ended"] == "finished"].groupby("variant").size()
    table = pd.DataFrame({"runs_finished": finished, "attempts": attempts.groupby("variant").size(),
                          "hours": hours,
                          "attempts_unknown_end": attempts["end"].isna().groupby(attempts["variant"]).sum()})
    return table.fillna(0).astype({"runs_finished": int, "attempts": int, "attempts_unknown_end": int})


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    with open(argv[0]) as f:
        attempts, starts = spans(f)
    table = per_variant(attempts)
    print(table.to_string(float_format=lambda h: f"{h:.2f}"))
    print(f"training jobs: {table['hours'].sum():.2f} h known, {table['attempts_unknown_end'].sum()} attempts "
          "with an unknown end (interrupted, no last-seen time)")
    whole = (starts["end"] - starts["start"]).dt.total_seconds().sum() / 3600
    print(f"study: {whole:.2f} h over {len(starts)} starts "
          f"({', '.join(f'{s:%m-%d %H:%M}-{e:%H:%M} {how}' for s, e, how in starts.itertuples(index=False))})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
