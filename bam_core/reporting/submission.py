"""`bam submission --scores S --runs-dir results/runs --variant single-multi --out-dir results/submission`

The paper's Table 2 procedure: of the variant's seeds, take the one with the best average dev score
and write its test predictions as the GLUE leaderboard's TSV files (`index<TAB>prediction`, rows in
idx order, GLUE's label strings). Tasks without test predictions are listed in README.txt.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from bam_core.data.tasks import PAPER_TASKS, get_task
from bam_core.errors import BamError
from bam_core.io import write_text
from bam_core.reporting.stats import read_scores

FILES = {"MNLI": "MNLI-m.tsv"}  # the leaderboard's name where it differs from the task's (MNLI: matched)
NUMERIC_LABELS = {"CoLA", "SST-2", "MRPC", "QQP", "WNLI"}  # GLUE expects 0/1 here, label strings elsewhere


def best_seed(scores: pd.DataFrame, variant: str) -> tuple[int, float]:
    """The seed with the highest Avg dev score (ties: the lowest seed)."""
    avg = scores[(scores["variant"] == variant) & (scores["task"] == "Avg")].dropna(subset=["score"])
    if avg.empty:
        raise BamError(f"scores: no Avg dev score for variant {variant!r}")
    best = avg.sort_values(["score", "seed"], ascending=[False, True], kind="stable").iloc[0]
    return int(best["seed"]), float(best["score"])


def glue_column(task_name: str, prediction: np.ndarray) -> pd.Series:
    """Predictions (class index, or STS-B value on 0-5) as the strings GLUE's server reads."""
    task = get_task(task_name)
    if task.is_regression:
        return pd.Series(np.clip(prediction, 0.0, 5.0)).map("{:.3f}".format)
    classes = prediction.astype(np.int64)
    if (classes != prediction).any() or classes.min() < 0 or classes.max() >= task.num_outputs:
        raise BamError(f"{task_name}: test predictions must be class indices 0..{task.num_outputs - 1}")
    if task_name in NUMERIC_LABELS:
        return pd.Series(classes).astype(str)
    return pd.Series(np.asarray(task.labels, dtype=object)[classes])


def test_predictions(runs_dir: str | Path, variant: str, seed: int) -> pd.DataFrame:
    paths = sorted(Path(runs_dir, variant, str(seed)).glob("*/predictions.parquet"))
    if not paths:
        raise BamError(f"{Path(runs_dir, variant, str(seed))}: no predictions.parquet under any group")
    preds = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
    return preds[preds["split"] == "test"]


def write_submission(scores: pd.DataFrame, runs_dir: str | Path, variant: str, out_dir: str | Path) -> list[str]:
    """Write the TSVs and README.txt; returns the tasks that had no test predictions."""
    seed, avg = best_seed(scores, variant)
    preds = test_predictions(runs_dir, variant, seed)
    tasks = list(PAPER_TASKS) + (["WNLI"] if (preds["task"] == "WNLI").any() else [])
    written, missing = [], []
    for task in tasks:
        rows = preds[preds["task"] == task].sort_values("idx")
        if rows.empty:
            missing.append(task)
            continue
        if rows["idx"].duplicated().any():
            raise BamError(f"{variant} seed {seed}: {task} has duplicate test idx values")
        labels = glue_column(task, rows["prediction"].to_numpy())
        tsv = pd.DataFrame({"index": rows["idx"].to_numpy(), "prediction": labels})
        name = FILES.get(task, f"{task}.tsv")
        write_text(tsv.to_csv(sep="\t", index=False), Path(out_dir) / name)
        written.append(f"{name} ({len(tsv)} rows)")
    lines = [f"GLUE test predictions of {variant}, seed {seed} (best Avg dev score: {avg:.2f}).", "",
             "Files:", *(f"  {w}" for w in written), ""]
    lines += (["Tasks without test predictions (no file written):", *(f"  {t}" for t in missing)]
              if missing else ["Every task has test predictions."])
    write_text("\n".join(lines) + "\n", Path(out_dir) / "README.txt")
    return missing


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bam submission", description=__doc__.splitlines()[0])
    parser.add_argument("--scores", required=True)
    parser.add_argument("--runs-dir", required=True)
    parser.add_argument("--variant", default="single-multi")
    parser.add_argument("--out-dir", required=True)
    args = parser.parse_args(argv)
    write_submission(read_scores(args.scores), args.runs_dir, args.variant, args.out_dir)
    return 0
