"""Single's layer-wise decay, chosen per task from a grid by median dev score over seeds.

`bam choose-alpha --grid 1.0 0.9 --out results/alpha_choice.json METRICS.json...` picks, for each task,
the alpha whose runs have the highest median dev score (ties go to the earlier grid value).
`bam select-single --choice results/alpha_choice.json --out-dir results/runs/single/S/G RUN_DIR...`
then assembles Single's run from the chosen grid runs, in the format of any other run, so teachers,
scores and figures need not know that Single was selected.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bam_core.data.tasks import evaluation_tasks, get_task
from bam_core.errors import BamError
from bam_core.io import read_json, write_json, write_parquet


def choose(grid: list[float], metrics_paths: list[str]) -> dict:
    scores: dict[str, dict[float, list[float]]] = {}
    for path in metrics_paths:
        metrics = read_json(path)
        alpha = float(metrics["spec"]["layerwise_lr_decay"])
        for task, result in metrics["tasks"].items():
            if get_task(task).head:  # an evaluation set (MNLI-mm) follows its head's choice
                continue
            scores.setdefault(task, {}).setdefault(alpha, []).append(result["score"])
    choice, medians = {}, {}
    for task, by_alpha in scores.items():
        missing = [a for a in grid if a not in by_alpha]
        if missing:
            raise BamError(f"task {task}: no grid runs with alpha {missing[0]:g}")
        medians[task] = {f"{a:g}": statistics.median(by_alpha[a]) for a in grid}
        choice[task] = max(grid, key=lambda a: (statistics.median(by_alpha[a]), -grid.index(a)))
    return {"choice": choice, "medians": medians}



def _by_task(table: pa.Table) -> dict[str, pa.Table]:
    return {task: table.filter(pc.equal(table["task"], task)) for task in table["task"].unique().to_pylist()}


def select(choice: dict[str, float], run_dirs: list[str], out_dir: str) -> None:
    """Write Single's run for one (seed, group): each task's rows from the grid run of its chosen alpha."""
    runs = {}  # alpha -> (dir, metrics); each grid run's files are read once
    for run_dir in map(Path, run_dirs):
        metrics = read_json(run_dir / "metrics.json")
        runs[float(metrics["spec"]["layerwise_lr_decay"])] = (run_dir, metrics)
    tasks = [t for t in next(iter(runs.values()))[1]["tasks"] if not get_task(t).head]  # the trained ones
    for task in tasks:
        if task not in choice:
            raise BamError(f"alpha choice has no entry for task {task}")
        if choice[task] not in runs:
            raise BamError(f"task {task}: chosen alpha {choice[task]:g} has no run among {run_dirs}")
    chosen = {a: runs[a] for a in {choice[t] for t in tasks}}
    predictions = {a: _by_task(pq.read_table(d / "predictions.parquet")) for a, (d, _) in chosen.items()}
    evaluated = [t for t in evaluation_tasks(tasks) if t in predictions[choice[get_task(t).head]]]
    alpha_of = {**{t: choice[t] for t in tasks}, **{t: choice[get_task(t).head] for t in evaluated}}
    logits = {a: _by_task(pq.read_table(d / "logits.parquet")) for a, (d, _) in chosen.items()}
    tasks_metrics = {t: chosen[alpha_of[t]][1]["tasks"][t] for t in tasks + evaluated
                     if t in chosen[alpha_of[t]][1]["tasks"]}
    averaged = [m["score"] for t, m in tasks_metrics.items() if get_task(t).in_average]
    out = Path(out_dir)
    first_logits = chosen[choice[tasks[0]]][0] / "logits.parquet"
    write_parquet(pa.concat_tables([predictions[alpha_of[t]][t] for t in tasks + evaluated]),
                  out / "predictions.parquet")
    merged_logits = pa.concat_tables([logits[choice[t]][t] for t in tasks])
    write_parquet(merged_logits.replace_schema_metadata(pq.read_schema(first_logits).metadata), out / "logits.parquet")
    write_json({"spec": {"mode": "single", "tasks": tasks, "layerwise_lr_decay": {t: choice[t] for t in tasks}},
                "selected_from": {t: str(chosen[choice[t]][0]) for t in tasks}, "tasks": tasks_metrics,
                "average": sum(averaged) / len(averaged) if averaged else None}, out / "metrics.json")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bam choose-alpha", description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=float, nargs="+", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("metrics", nargs="+")
    args = parser.parse_args(argv)
    write_json(choose(args.grid, args.metrics), args.out)
    return 0


def select_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bam select-single", description="assemble Single from its grid")
    parser.add_argument("--choice", required=True)
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("run_dirs", nargs="+")
    args = parser.parse_args(argv)
    select(read_json(args.choice)["choice"], args.run_dirs, args.out_dir)
    return 0
