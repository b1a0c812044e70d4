"""scripts/study_hours.py: a study's training hours from study.log, across interruptions (hand-timed log)."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "study_hours.py"
spec = importlib.util.spec_from_file_location("study_hours", SCRIPT)
study_hours = importlib.util.module_from_spec(spec)
spec.loader.exec_module(study_hours)

# Two starts of a study: Single's run finishes in 30 minutes; Multi's first attempt is cut when the first
# start was last seen running (30 minutes), its second fails after 10, its third finishes after 50. A third
# start, killed with no last-seen time, leaves an attempt of unknown end.
LOG = """\
2026-12-07 03:00:00 start at 1234abc
Building DAG of jobs...
[Mon Dec  7 03:00:10 2026]
localrule train:
    jobid: 4
    benchmark: results/benchmarks/train/single/0/RTE.tsv
    wildcards: variant=single, seed=0, group=RTE
    resources: tmpdir=/tmp, gpu=0
[Mon Dec  7 03:30:10 2026]
Finished jobid: 4 (Rule: train)
1 of 9 steps (11%) done
[Mon Dec  7 03:30:12 2026]
localrule train:
    jobid: 5
    wildcards: variant=multi, seed=0, group=all
2026-12-07 04:00:12 last seen running
2026-12-07 05:00:00 start at 1234abc
[Mon Dec  7 05:00:05 2026]
localrule train:
    jobid: 2
    wildcards: variant=multi, seed=0, group=all
[Mon Dec  7 05:10:05 2026]
Error in rule train:
    message: None
    jobid: 2
[Mon Dec  7 05:10:20 2026]
localrule train:
    jobid: 3
    wildcards: variant=multi, seed=0, group=all
[Mon Dec  7 06:00:20 2026]
Finished jobid: 3 (Rule: train)
2026-12-07 06:01:00 done
2026-12-08 09:00:00 start at 1234abc
[Tue Dec  8 09:00:05 2026]
localrule train:
    jobid: 7
    wildcards: variant=multi, seed=1, group=all
"""


def test_attempts_and_their_ends():
    attempts, starts = study_hours.spans(LOG.splitlines())
    assert list(attempts["ended"]) == ["finished", "last seen running", "failed", "finished", "unknown"]
    minutes = ((attempts["end"] - attempts["start"]).dt.total_seconds() / 60).round(4).tolist()
    assert minutes[:4] == [30.0, 30.0, 10.0, 50.0]
    assert list(starts["ended"]) == ["last seen running", "done", "last job event"]
    assert ((starts["end"] - starts["start"]).dt.total_seconds() / 60).tolist() == [60.2, 61.0, 5 / 60]


def test_hours_per_variant():
    table = study_hours.per_variant(study_hours.spans(LOG.splitlines())[0])
    assert table.loc["single"].tolist() == [1, 1, pytest.approx(0.5), 0]
    assert table.loc["multi"].tolist() == [1, 4, pytest.approx(1.5), 1]


def test_printed_summary(tmp_path, capsys):
    (tmp_path / "study.log").write_text(LOG)
    assert study_hours.main([str(tmp_path / "study.log")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2] == "training jobs: 2.00 h known, 1 attempts with an unknown end (interrupted, no last-seen time)"
    assert out[-1] == ("study: 2.02 h over 3 starts (12-07 03:00-04:00 last seen running, 12-07 05:00-06:01 done, "
                       "12-08 09:00-09:00 last job event)")
