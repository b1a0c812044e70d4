"""λ = 0 (no teacher annealing) against Single→Multi, seed by seed: the difference of their dev averages, split
into CoLA-like's share and the other tasks' share, with a one-sided Wilcoxon signed-rank test on each (students
of the same seed share their data order and initialisation) and the Mann-Whitney test Table 4 makes on the Avg.

    python demo-tuning/annealing_pairs.py /tmp/explore       # an explore_demo.py --out directory (scores.csv)
    python demo-tuning/annealing_pairs.py .                  # a clone where `snakemake` finished (results/scores.parquet)

Why the split: on the demo's suite before 80bba1b (CoLA-like with a verb-final violation) the multi-task
students missed that violation on most seeds while the single-task teacher learnt it, so λ = 0, held to the
teacher, gained there what annealing gained on the other tasks (docs/design-log.md, 2026-12-01).
"""

import sys
from pathlib import Path

import pandas as pd
from scipy.stats import mannwhitneyu, wilcoxon

from bam_core.data.synthetic import SUITE

NAMES = {"lambda0": "ablation-lambda-0"}  # explore_demo.py's name -> the workflow's variant id


def scores(root: Path) -> pd.DataFrame:
    """Dev scores with one row per (variant, seed) and a column per task and Avg; explore's variant names."""
    if (root / "scores.csv").is_file():
        return pd.read_csv(root / "scores.csv").set_index(["variant", "seed"])
    if not (root / "results" / "scores.parquet").is_file():
        raise SystemExit(f"neither {root / 'scores.csv'} (explore_demo.py) nor {root / 'results/scores.parquet'} "
                         "(the workflow): no finished run there")
    long = pd.read_parquet(root / "results" / "scores.parquet")
    wide = long.pivot_table(index=["variant", "seed"], columns="task", values="score")
    return wide.rename(index={v: k for k, v in NAMES.items()}, level="variant")


def pairs(table: pd.DataFrame, tasks=SUITE) -> pd.DataFrame:
    """Per seed: λ = 0 minus Single→Multi on Avg, and the shares of CoLA-like and of the other tasks in it."""
    difference = (table.loc["lambda0"] - table.loc["single-multi"]).dropna(subset=["Avg"])
    shares = difference[list(tasks)] / len(tasks)
    out = pd.DataFrame({"Avg": difference["Avg"], "CoLA share": shares["CoLA"],
                        "other tasks' share": shares.drop(columns="CoLA").sum(axis=1)})
    if ((out["CoLA share"] + out["other tasks' share"] - out["Avg"]).abs() > 1e-6).any():
        raise SystemExit(f"Avg is not the mean of {', '.join(tasks)}: not the demo's suite?")
    return out


def summary(table: pd.DataFrame, out: pd.DataFrame) -> list[str]:
    student, reference = table.loc["lambda0", "Avg"], table.loc["single-multi", "Avg"]
    p = mannwhitneyu(student, reference, alternative="less").pvalue
    medians = f"medians of Avg: λ = 0 {student.median():.2f}, Single→Multi {reference.median():.2f}"
    lines = [f"{medians}; one-sided Mann-Whitney p {p:.3g}"]
    for column in out:
        below = (out[column] < 0).sum()
        p = wilcoxon(out[column], alternative="less").pvalue
        lines.append(f"{column}: below on {below} of {len(out)} seeds, mean {out[column].mean():+.2f}, "
                     f"one-sided Wilcoxon p {p:.3g}")
    return lines


if __name__ == "__main__":
    table = scores(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
    out = pairs(table)
    print(out.round(2).to_markdown())
    print("\n".join(summary(table, out)))
