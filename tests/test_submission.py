"""GLUE submission files from the best-dev seed: names, label strings, idx order, STS-B clipping, README."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bam_core.errors import BamError
from bam_core.reporting import submission


def _scores(avgs: dict[int, float]) -> pd.DataFrame:
    rows = [("single-multi", s, "Avg", "average", a) for s, a in avgs.items()]
    rows.append(("single", 0, "Avg", "average", 99.0))  # another variant's better seed is not ours
    return pd.DataFrame(rows, columns=["variant", "seed", "task", "metric", "score"])


def _predictions(root: Path, seed: int, tasks: dict[str, list[float]]) -> None:
    rows = []
    for task, preds in tasks.items():
        n = len(preds)
        # written in reverse idx order: the TSV must come out sorted
        rows.append(pd.DataFrame({"task": task, "split": "test", "idx": np.arange(n)[::-1].astype("int64"),
                                  "prediction": np.array(preds[::-1], dtype=float), "label": np.nan}))
        rows.append(pd.DataFrame({"task": task, "split": "dev", "idx": [0], "prediction": [0.0], "label": [0.0]}))
    d = root / "single-multi" / str(seed) / "all"
    d.mkdir(parents=True)
    pd.concat(rows).to_parquet(d / "predictions.parquet")


def test_best_seed_ties_go_to_the_lowest():
    assert submission.best_seed(_scores({0: 80.0, 1: 82.5, 2: 82.5}), "single-multi") == (1, 82.5)


def test_submission_files(tmp_path):
    tasks = {"CoLA": [1, 0], "SST-2": [0, 1], "MRPC": [1, 1], "STS-B": [5.4, -0.2, 3.14159], "QQP": [0, 0],
             "MNLI": [2, 0, 1], "QNLI": [1, 0], "RTE": [0, 1]}
    _predictions(tmp_path / "runs", 0, {"CoLA": [0, 0]})
    _predictions(tmp_path / "runs", 1, tasks)
    out = tmp_path / "sub"
    missing = submission.write_submission(_scores({0: 70.0, 1: 75.0}), tmp_path / "runs", "single-multi", out)
    assert missing == []
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["CoLA.tsv", "SST-2.tsv", "MRPC.tsv", "STS-B.tsv", "QQP.tsv", "MNLI-m.tsv", "QNLI.tsv", "RTE.tsv", "README.txt"])
    assert (out / "CoLA.tsv").read_text() == "index\tprediction\n0\t1\n1\t0\n"
    assert (out / "STS-B.tsv").read_text() == "index\tprediction\n0\t5.000\n1\t0.000\n2\t3.142\n"
    assert (out / "MNLI-m.tsv").read_text() == "index\tprediction\n0\tcontradiction\n1\tentailment\n2\tneutral\n"
    assert (out / "RTE.tsv").read_text() == "index\tprediction\n0\tentailment\n1\tnot_entailment\n"
    assert (out / "README.txt").read_text().startswith(
        "GLUE test predictions of single-multi, seed 1 (best Avg dev score: 75.00).")


def test_tasks_without_predictions_listed(tmp_path):
    _predictions(tmp_path / "runs", 0, {"CoLA": [1], "RTE": [0], "WNLI": [1]})
    out = tmp_path / "sub"
    missing = submission.write_submission(_scores({0: 70.0}), tmp_path / "runs", "single-multi", out)
    assert missing == ["SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI"]
    assert (out / "WNLI.tsv").read_text() == "index\tprediction\n0\t1\n"
    readme = (out / "README.txt").read_text()
    assert readme.endswith("Tasks without test predictions (no file written):\n  SST-2\n  MRPC\n  STS-B\n  QQP\n"
                           "  MNLI\n  QNLI\n")


def test_bad_class_index_is_an_error(tmp_path):
    _predictions(tmp_path / "runs", 0, {"RTE": [0, 2]})
    with pytest.raises(BamError, match=r"^RTE: test predictions must be class indices 0..1$"):
        submission.write_submission(_scores({0: 70.0}), tmp_path / "runs", "single-multi", tmp_path / "sub")


def test_variant_without_scores(tmp_path):
    with pytest.raises(BamError, match="no Avg dev score for variant 'multi'"):
        submission.write_submission(_scores({0: 70.0}), tmp_path, "multi", tmp_path / "sub")
