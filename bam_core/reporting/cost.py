"""`bam cost --metrics results/runs/*/*/*/metrics.json [--estimate results/estimate/runs.tsv] --out-dir results/tables`

What each variant cost: runs, total training wall hours, GPU hours (wall hours of runs on CUDA) and
the median training throughput (examples/s) over its runs. Written as cost.parquet and cost.tex.
With an estimate (`bam estimate`), the estimated hours of the same runs stand beside the measured
ones, counted like metrics.json's wall time: from the start of training, without the job's imports.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from bam_core.errors import BamError
from bam_core.experiment.scores import run_key
from bam_core.io import read_json, write_parquet, write_text
from bam_core.reporting.estimate import expected_minutes

COLUMNS = ["variant", "runs", "wall_hours", "gpu_hours", "median_examples_per_second"]


def run_costs(metrics_paths: list[str]) -> pd.DataFrame:
    """One row per run: variant, seed, group, device, wall seconds, examples/s."""
    rows = []
    for path in metrics_paths:
        variant, seed, group = run_key(path)
        metrics = read_json(path)
        try:
            rows.append((variant, seed, group, metrics["device"], float(metrics["wall_seconds"]),
                         float(metrics["examples_per_second"])))
        except KeyError as err:
            raise BamError(f"{path}: metrics.json has no {err.args[0]!r}") from None
    return pd.DataFrame(rows, columns=["variant", "seed", "group", "device", "wall_seconds", "examples_per_second"])


def cost_table(runs: pd.DataFrame, estimate: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per variant; with an estimate, `estimated_hours` of the same runs (a run it lacks counts as missing)."""
    runs = runs.assign(wall_hours=runs["wall_seconds"] / 3600,
                       gpu_hours=runs["wall_seconds"].where(runs["device"] == "cuda", 0.0) / 3600)
    aggregates = dict(runs=("wall_hours", "size"), wall_hours=("wall_hours", "sum"), gpu_hours=("gpu_hours", "sum"),
                      median_examples_per_second=("examples_per_second", "median"))
    columns = list(COLUMNS)
    if estimate is not None:
        expected = estimate.assign(estimated_hours=(estimate["minutes"] - estimate["startup_minutes"]) / 60)
        runs = runs.merge(expected[["variant", "seed", "group", "estimated_hours"]], how="left",
                          on=["variant", "seed", "group"])
        aggregates["estimated_hours"] = ("estimated_hours", lambda h: h.sum(min_count=len(h)))
        columns.insert(3, "estimated_hours")
    out = runs.groupby("variant", sort=True).agg(**aggregates).reset_index()
    return out.astype({"runs": "int64"})[columns]


def cost_latex(table: pd.DataFrame) -> str:
    shown = table.set_index("variant").rename(columns={
        "runs": "Runs", "wall_hours": "Wall hours", "estimated_hours": "Estimated hours", "gpu_hours": "GPU hours",
        "median_examples_per_second": "Median examples/s"})
    shown.index.name = None
    styler = shown.style.format({"Wall hours": "{:.3f}", "Estimated hours": "{:.3f}", "GPU hours": "{:.3f}",
                                 "Median examples/s": "{:.1f}"}, escape="latex", na_rep="--").format_index(escape="latex")
    caption = "Training cost per variant (wall hours summed over runs; GPU hours: runs on CUDA)."
    if "estimated_hours" in table:
        caption = caption[:-2] + "; estimated hours: the same runs as `snakemake estimate` priced them)."
    return styler.to_latex(hrules=True, column_format="l" + "r" * len(shown.columns), position="htbp",
                           position_float="centering", caption=caption, label="tab:cost")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bam cost", description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", nargs="+", required=True)
    parser.add_argument("--estimate", help="runs.tsv of `bam estimate`: estimated hours beside measured ones")
    parser.add_argument("--out-dir", required=True)
    args = parser.parse_args(argv)
    table = cost_table(run_costs(args.metrics), expected_minutes(args.estimate) if args.estimate else None)
    write_parquet(table, Path(args.out_dir) / "cost.parquet")
    write_text(cost_latex(table), Path(args.out_dir) / "cost.tex")
    return 0
