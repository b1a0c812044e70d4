"""`bam collect --out results/scores.parquet METRICS.json...`: every run's dev scores in one table.

Variant and seed come from the run's path (results/runs/{variant}/{seed}/{group}/metrics.json). A
seed's average (task `Avg`) is the mean over that seed's tasks, across the groups of a single-task
variant, as in the paper.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from bam_core.data.tasks import get_task
from bam_core.errors import BamError
from bam_core.io import read_json, write_parquet

COLUMNS = ["variant", "seed", "task", "metric", "score"]


def run_key(metrics_path: str | Path) -> tuple[str, int, str]:
    """(variant, seed, group) of results/runs/{variant}/{seed}/{group}/metrics.json."""
    parts = Path(metrics_path).parts
    if len(parts) < 4 or not parts[-3].isdigit():
        raise BamError(f"{metrics_path}: not a run's metrics (expected runs/<variant>/<seed>/<group>/metrics.json)")
    return parts[-4], int(parts[-3]), parts[-2]


def collect(metrics_paths: list[str]) -> pd.DataFrame:
    rows = []
    for path in metrics_paths:
        variant, seed, _ = run_key(path)
        for task, result in read_json(path)["tasks"].items():
            rows.append((variant, seed, task, result["metric"], float(result["score"])))
    scores = pd.DataFrame(rows, columns=COLUMNS)
    duplicated = scores[scores.duplicated(["variant", "seed", "task"], keep=False)]
    if len(duplicated):
        v, s, t = duplicated.iloc[0][["variant", "seed", "task"]]
        raise BamError(f"variant {v} seed {s}: task {t} is scored by two runs")
    averaged = scores[[get_task(t).in_average for t in scores["task"]]]
    avg = averaged.groupby(["variant", "seed"], as_index=False)["score"].mean()
    avg["task"], avg["metric"] = "Avg", "average"
    out = pd.concat([scores, avg[COLUMNS]], ignore_index=True)
    out["seed"] = out["seed"].astype("int64")
    return out.sort_values(["variant", "seed", "task"], kind="stable").reset_index(drop=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bam collect", description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("metrics", nargs="+")
    args = parser.parse_args(argv)
    write_parquet(collect(args.metrics), args.out)
    return 0
