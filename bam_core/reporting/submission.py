"""`bam submission --scores S --runs-dir results/runs --data-dir results/data --variant single-multi --out-dir D`

The paper's Table 2 procedure: of the variant's seeds, take the one with the best average dev score
and write its test predictions as the GLUE leaderboard's TSV files (`index<TAB>prediction`, rows in
idx order, the server's labels). AX is predicted by the MNLI head; WNLI gets the majority class of its
training set, as in BERT and the paper (which leave it out of training), even where a config trains it. Every file is checked against the
test split it answers (every row, nothing else, labels in the server's vocabulary) before any is
written. An experiment without every task writes the files it can and a README naming the rest and why
(not trained, or no test file in the data source: MNLI's and QQP's in ../shared/glue); `bam submission-zip`
then packs a complete set into the one zip the server takes. Tasks of your own (custom_tasks) have no file
here; an experiment with no GLUE task writes only a README that says so.
"""

from __future__ import annotations

import argparse
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from bam_core.data.splits import ABSENT_KEY
from bam_core.data.tasks import get_task
from bam_core.errors import BamError
from bam_core.io import atomic_output, parquet_metadata, write_text
from bam_core.reporting.stats import read_scores

# The server's file per task, in the leaderboard's order. Names as the GLUE server expects them
# (nyu-mll/jiant, jiant/scripts/benchmarks/benchmark_submission_formatter.py: GlueBenchmark's
# BENCHMARK_SUBMISSION_FILENAMES; the same names in keras-nlp's GLUE guide): MNLI is MNLI-m (matched).
SERVER_FILES = {"CoLA": "CoLA.tsv", "SST-2": "SST-2.tsv", "MRPC": "MRPC.tsv", "STS-B": "STS-B.tsv",
                "QQP": "QQP.tsv", "MNLI": "MNLI-m.tsv", "MNLI-mm": "MNLI-mm.tsv", "QNLI": "QNLI.tsv",
                "RTE": "RTE.tsv", "WNLI": "WNLI.tsv", "AX": "AX.tsv"}
NUMERIC_LABELS = {"CoLA", "SST-2", "MRPC", "QQP", "WNLI"}  # 0/1 on the server; label strings elsewhere
MAJORITY = "WNLI"  # never trained on: the majority class of its training set
HEADER = "index\tprediction"


def best_seed(scores: pd.DataFrame, variant: str) -> tuple[int, float]:
    """The seed with the highest Avg dev score (ties: the lowest seed)."""
    avg = scores[(scores["variant"] == variant) & (scores["task"] == "Avg")].dropna(subset=["score"])
    if avg.empty:
        raise BamError(f"scores: no Avg dev score for variant {variant!r}")
    best = avg.sort_values(["score", "seed"], ascending=[False, True], kind="stable").iloc[0]
    return int(best["seed"]), float(best["score"])


def vocabulary(task_name: str) -> list[str] | None:
    """The labels the server reads for a task; None for STS-B (a float in [0, 5])."""
    task = get_task(task_name)
    if task.is_regression:
        return None
    return [str(i) for i in range(task.num_outputs)] if task_name in NUMERIC_LABELS else list(task.labels)


def glue_column(task_name: str, prediction: np.ndarray) -> pd.Series:
    """Predictions (class index, or STS-B value on 0-5) as the strings GLUE's server reads."""
    name, vocab = SERVER_FILES[task_name], vocabulary(task_name)
    if vocab is None:
        bad = int(np.count_nonzero(~np.isfinite(prediction)))
        if bad:
            raise BamError(f"{name}: {bad} of {len(prediction)} predictions are not numbers")
        return pd.Series(np.clip(prediction, 0.0, 5.0)).map("{:.3f}".format)
    inside = np.isin(prediction, np.arange(len(vocab)))
    if not inside.all():
        raise BamError(f"{name}: {int(np.count_nonzero(~inside))} of {len(prediction)} predictions are outside "
                       f"the server's labels ({', '.join(vocab)})")
    return pd.Series(np.asarray(vocab, dtype=object)[prediction.astype(np.int64)])


def test_predictions(runs_dir: str | Path, variant: str, seed: int) -> pd.DataFrame:
    paths = sorted(Path(runs_dir, variant, str(seed)).glob("*/predictions.parquet"))
    if not paths:
        raise BamError(f"{Path(runs_dir, variant, str(seed))}: no predictions.parquet under any group")
    preds = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
    return preds[preds["split"] == "test"]


def split_column(data_dir: str | Path, task: str, split: str, column: str) -> np.ndarray | None:
    """One column of a prepared split (None when the task was not prepared)."""
    path = Path(data_dir) / task / f"{split}.parquet"
    return pq.read_table(path, columns=[column]).column(column).to_numpy() if path.exists() else None


def test_file_absent(data_dir: str | Path, task: str) -> bool:
    """The task was prepared, but its data source had no test file (`bam prepare` records it as absent)."""
    path = Path(data_dir) / task / "test.parquet"
    return path.exists() and bool(parquet_metadata(path).get(ABSENT_KEY))


def majority_rows(data_dir: str | Path, task: str, trained: bool = False) -> tuple[pd.DataFrame, str] | None:
    """Every test row labelled with the training set's most frequent class (ties: the lower index), also
    when the variant trained on the task (its predictions are not used: the paper's and BERT's procedure)."""
    labels, idx = split_column(data_dir, task, "train", "label"), split_column(data_dir, task, "test", "idx")
    if labels is None or idx is None:
        return None
    if not len(labels):
        raise BamError(f"{Path(data_dir) / task / 'train.parquet'}: no training rows to take the majority class of")
    counts = np.bincount(labels.astype(np.int64), minlength=get_task(task).num_outputs)
    majority = int(np.argmax(counts))
    why = ("as in the paper and BERT, this run's WNLI predictions are not used" if trained
           else "WNLI is left out of training, as in the paper and BERT")
    note = (f"the majority class of its training set ({get_task(task).labels[majority]}, {counts[majority]} of "
            f"{len(labels)}) for every row: {why}")
    return pd.DataFrame({"idx": idx, "prediction": float(majority)}), note


def checked_rows(rows: pd.DataFrame, test_idx: np.ndarray | None, name: str) -> pd.DataFrame:
    """The predictions of one file, one per test row in idx order; anything else is refused."""
    if test_idx is None:
        raise BamError(f"{name}: the task's test split is not prepared (results/data/<task>/test.parquet)")
    if rows["idx"].duplicated().any():
        raise BamError(f"{name}: {int(rows['idx'].duplicated().sum())} test rows are predicted twice")
    predicted = rows["idx"].to_numpy()
    absent = np.setdiff1d(test_idx, predicted, assume_unique=True)  # both unique: idx is the row number
    if absent.size:
        raise BamError(f"{name}: {absent.size} of {len(test_idx)} test rows have no prediction")
    extra = np.setdiff1d(predicted, test_idx, assume_unique=True)
    if extra.size:
        raise BamError(f"{name}: {extra.size} predictions for rows not in the test split ({len(test_idx)} rows)")
    return rows.sort_values("idx")


def submission_files(preds: pd.DataFrame, data_dir) -> tuple[dict[str, pd.DataFrame], dict[str, str], list[str]]:
    """(file name -> TSV frame, file name -> note, tasks absent), every file checked before any is written."""
    files, notes, absent = {}, {}, []
    for task, name in SERVER_FILES.items():
        if task == MAJORITY:
            made = majority_rows(data_dir, task, trained=bool((preds["task"] == task).any()))
            if made is None:
                absent.append(task)
                continue
            rows, notes[name] = made
        else:
            rows = preds[preds["task"] == task]
            if rows.empty:
                absent.append(task)
                continue
            rows = checked_rows(rows, split_column(data_dir, task, "test", "idx"), name)
            if get_task(task).head:
                notes[name] = f"predicted by the {get_task(task).head} head"
        labels = glue_column(task, rows["prediction"].to_numpy())
        files[name] = pd.DataFrame({"index": rows["idx"].to_numpy(), "prediction": labels.to_numpy()})
    return files, notes, absent


def readme(variant: str, seed: int, avg: float, files: dict, notes: dict, absent: list[str],
           no_test_file: frozenset[str] = frozenset(), own: tuple[str, ...] = ()) -> str:
    """`own`: the experiment's tasks of its own (custom_tasks), which the GLUE server does not score."""
    where = f"results/runs/{variant}/<seed>/*/predictions.parquet (split test)"
    if not files:
        return (f"No GLUE task in this experiment, so no GLUE submission file: the GLUE server scores only GLUE's "
                f"tasks. The test predictions of {variant}'s runs are in {where}.\n")
    lines = [f"GLUE test predictions of {variant}, seed {seed} (best Avg dev score: {avg:.2f}).", "", "Files:"]
    lines += [f"  {n} ({len(f)} rows)" + (f": {notes[n]}" if n in notes else "") for n, f in files.items()]
    if own:
        lines += ["", f"Not GLUE tasks, so no file here: {', '.join(own)} (test predictions in {where})."]
    if absent:
        why = {t: "no test file in the data source" if t in no_test_file else "not trained in this experiment"
               for t in absent}
        lines += ["", "Absent, so no submission zip:", *(f"  {SERVER_FILES[t]}: {why[t]}" for t in absent)]
    else:
        lines += ["", "Every file the GLUE server wants is here (results/submission.zip packs them)."]
    return "\n".join(lines) + "\n"


def write_submission(scores: pd.DataFrame, runs_dir, variant: str, data_dir, out_dir) -> list[str]:
    """Write the TSVs and README.txt; returns the tasks without a file."""
    seed, avg = best_seed(scores, variant)
    preds = test_predictions(runs_dir, variant, seed)
    files, notes, absent = submission_files(preds, data_dir)
    own = tuple(t for t in dict.fromkeys(preds["task"]) if t not in SERVER_FILES)
    for name, frame in files.items():
        write_text(frame.to_csv(sep="\t", index=False), Path(out_dir) / name)
    no_test_file = frozenset(t for t in absent if test_file_absent(data_dir, t))
    write_text(readme(variant, seed, avg, files, notes, absent, no_test_file, own), Path(out_dir) / "README.txt")
    return absent


def write_zip(submission_dir, out: str | Path) -> None:
    """The server's zip: the eleven TSVs at its top level, refused if one is missing or not a submission file."""
    folder = Path(submission_dir)
    missing = [n for n in SERVER_FILES.values() if not (folder / n).is_file()]
    if missing:
        raise BamError(f"{folder}: {len(missing)} of {len(SERVER_FILES)} files missing ({', '.join(missing)}); "
                       "the GLUE server wants all of them")
    for name in SERVER_FILES.values():
        with open(folder / name, encoding="utf-8") as f:
            if f.readline().rstrip("\n") != HEADER:
                raise BamError(f"{folder / name}: the first line is not {HEADER!r}")
    with atomic_output(out) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in SERVER_FILES.values():
            archive.write(folder / name, arcname=name)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bam submission", description=__doc__.splitlines()[0])
    parser.add_argument("--scores", required=True)
    parser.add_argument("--runs-dir", required=True)
    parser.add_argument("--data-dir", required=True, help="results/data: the test splits the files answer")
    parser.add_argument("--variant", default="single-multi")
    parser.add_argument("--out-dir", required=True)
    args = parser.parse_args(argv)
    write_submission(read_scores(args.scores), args.runs_dir, args.variant, args.data_dir, args.out_dir)
    return 0


def zip_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bam submission-zip", description=write_zip.__doc__)
    parser.add_argument("--submission-dir", required=True)
    parser.add_argument("--out", required=True, help="results/submission.zip")
    args = parser.parse_args(argv)
    write_zip(args.submission_dir, args.out)
    return 0
