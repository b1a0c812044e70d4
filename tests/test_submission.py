"""The GLUE submission against the server's format, written out here: file names, header, label
vocabularies, row counts of the test splits; refusals of incomplete or out-of-vocabulary files."""

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from shared_glue import GLUE

from bam_core.cli import main as bam
from bam_core.data.splits import ABSENT_KEY
from bam_core.errors import BamError
from bam_core.io import write_parquet
from bam_core.reporting import submission

# What the GLUE server takes (gluebenchmark.com; the names of jiant's benchmark_submission_formatter.py):
# one zip holding exactly these files, each `index<TAB>prediction`.
SERVER_FILES = ["CoLA.tsv", "SST-2.tsv", "MRPC.tsv", "STS-B.tsv", "QQP.tsv", "MNLI-m.tsv", "MNLI-mm.tsv",
                "QNLI.tsv", "RTE.tsv", "WNLI.tsv", "AX.tsv"]
NLI = {"entailment", "neutral", "contradiction"}
VOCABULARY = {"CoLA.tsv": {"0", "1"}, "SST-2.tsv": {"0", "1"}, "MRPC.tsv": {"0", "1"}, "QQP.tsv": {"0", "1"},
              "WNLI.tsv": {"0", "1"}, "MNLI-m.tsv": NLI, "MNLI-mm.tsv": NLI, "AX.tsv": NLI,
              "QNLI.tsv": {"entailment", "not_entailment"}, "RTE.tsv": {"entailment", "not_entailment"}}
# GLUE's test splits (rows); STS-B's predictions are floats in [0, 5].
GLUE_TEST_ROWS = {"CoLA.tsv": 1063, "SST-2.tsv": 1821, "MRPC.tsv": 1725, "STS-B.tsv": 1379, "QQP.tsv": 390965,
                  "MNLI-m.tsv": 9796, "MNLI-mm.tsv": 9847, "QNLI.tsv": 5463, "RTE.tsv": 3000, "WNLI.tsv": 146,
                  "AX.tsv": 1104}
TASK_OF = {"MNLI-m.tsv": "MNLI"}  # the rest: the file name without .tsv
CLASSES = {"CoLA": 2, "SST-2": 2, "MRPC": 2, "QQP": 2, "MNLI": 3, "MNLI-mm": 3, "AX": 3, "QNLI": 2, "RTE": 2}


def task_of(name: str) -> str:
    return TASK_OF.get(name, name[: -len(".tsv")])


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


def _data(root: Path, test_rows: dict[str, int], wnli_train=(0, 1, 1)) -> Path:
    """results/data as the submission reads it: each task's test idx, WNLI's training labels."""
    for task, n in test_rows.items():
        write_parquet(pd.DataFrame({"idx": np.arange(n, dtype="int64")}), root / task / "test.parquet")
    write_parquet(pd.DataFrame({"label": np.array(wnli_train, dtype="int64")}), root / "WNLI" / "train.parquet")
    return root


def _full(tmp_path, rows: dict[str, int] | None = None):
    """Runs and data of a complete experiment: every task with `rows[task]` test rows (default 3)."""
    rows = rows or {task_of(n): 3 for n in SERVER_FILES}
    rng = np.random.default_rng(0)
    preds = {t: (rng.uniform(-0.5, 5.5, n) if t == "STS-B" else rng.integers(0, CLASSES[t], n)).tolist()
             for t, n in rows.items() if t != "WNLI"}
    _predictions(tmp_path / "runs", 0, preds)
    return tmp_path / "runs", _data(tmp_path / "data", rows)


def check_server_format(zip_path: Path, test_rows: dict[str, int]) -> None:
    """The zip as the GLUE server reads it."""
    with zipfile.ZipFile(zip_path) as archive:
        assert sorted(archive.namelist()) == sorted(SERVER_FILES)  # exactly these, at the top level
        for name in SERVER_FILES:
            assert archive.read(name).startswith(b"index\tprediction\n"), name
            tsv = pd.read_csv(archive.open(name), sep="\t", dtype=str, keep_default_na=False, quoting=3)
            assert list(tsv.columns) == ["index", "prediction"], name
            assert (tsv["index"].astype(int) == np.arange(test_rows[name])).all(), name
            if name == "STS-B.tsv":
                assert tsv["prediction"].astype(float).between(0.0, 5.0).all()
            else:
                assert set(tsv["prediction"]) <= VOCABULARY[name], name


def test_best_seed_ties_go_to_the_lowest():
    assert submission.best_seed(_scores({0: 80.0, 1: 82.5, 2: 82.5}), "single-multi") == (1, 82.5)


def test_complete_submission_zip_in_the_servers_format(tmp_path):
    runs, data = _full(tmp_path)
    out = tmp_path / "submission"
    assert submission.write_submission(_scores({0: 70.0}), runs, "single-multi", data, out) == []
    submission.write_zip(out, tmp_path / "submission.zip")
    check_server_format(tmp_path / "submission.zip", {n: 3 for n in SERVER_FILES})
    assert (out / "WNLI.tsv").read_text() == "index\tprediction\n0\t1\n1\t1\n2\t1\n"  # majority of (0, 1, 1)
    readme = (out / "README.txt").read_text()
    assert "  AX.tsv (3 rows): predicted by the MNLI head\n" in readme
    assert ("  WNLI.tsv (3 rows): the majority class of its training set (entailment, 2 of 3) for every row: "
            "WNLI is left out of training, as in the paper and BERT\n") in readme
    assert readme.endswith("Every file the GLUE server wants is here (results/submission.zip packs them).\n")


def test_a_trained_wnli_still_submits_the_majority_class_and_says_so(tmp_path):
    runs, data = _full(tmp_path)
    _predictions(tmp_path / "runs-wnli", 0, {"WNLI": [0, 0, 0], "RTE": [0, 1, 1]})
    out = tmp_path / "submission"
    submission.write_submission(_scores({0: 70.0}), tmp_path / "runs-wnli", "single-multi", data, out)
    assert (out / "WNLI.tsv").read_text() == "index\tprediction\n0\t1\n1\t1\n2\t1\n"  # not the run's 0s
    assert ("  WNLI.tsv (3 rows): the majority class of its training set (entailment, 2 of 3) for every row: "
            "as in the paper and BERT, this run's WNLI predictions are not used\n") in (out / "README.txt").read_text()


def test_real_glue_row_counts(tmp_path):
    """A full-size submission: the server's row counts typed in, every file and the zip match them."""
    runs, data = _full(tmp_path, {task_of(n): rows for n, rows in GLUE_TEST_ROWS.items()})
    submission.write_submission(_scores({0: 70.0}), runs, "single-multi", data, tmp_path / "sub")
    submission.write_zip(tmp_path / "sub", tmp_path / "submission.zip")
    check_server_format(tmp_path / "submission.zip", GLUE_TEST_ROWS)


@pytest.mark.glue
def test_typed_row_counts_equal_the_glue_test_files():
    """The counts above against ../shared/glue's test files, where it has them (MNLI and QQP have none)."""
    from bam_core.data import glue_tsv
    from bam_core.data.tasks import get_task

    checked = []
    for name, rows in GLUE_TEST_ROWS.items():
        task = get_task(task_of(name))
        path = GLUE / glue_tsv.folder_name(task.name) / glue_tsv.LAYOUTS[task.name]["test"].file
        if path.exists():
            assert glue_tsv.load_split(task, GLUE, "test").num_rows == rows, name
            checked.append(name)
    assert len(checked) >= 7  # CoLA, SST-2, MRPC, STS-B, QNLI, RTE, WNLI


def test_labels_in_the_servers_words(tmp_path):
    tasks = {"CoLA": [1, 0], "STS-B": [5.4, -0.2, 3.14159], "MNLI": [2, 0, 1], "RTE": [0, 1]}
    _predictions(tmp_path / "runs", 0, {"CoLA": [0, 0]})
    _predictions(tmp_path / "runs", 1, tasks)
    data = _data(tmp_path / "data", {"CoLA": 2, "STS-B": 3, "MNLI": 3, "RTE": 2})
    out = tmp_path / "sub"
    submission.write_submission(_scores({0: 70.0, 1: 75.0}), tmp_path / "runs", "single-multi", data, out)
    assert (out / "CoLA.tsv").read_text() == "index\tprediction\n0\t1\n1\t0\n"
    assert (out / "STS-B.tsv").read_text() == "index\tprediction\n0\t5.000\n1\t0.000\n2\t3.142\n"
    assert (out / "MNLI-m.tsv").read_text() == "index\tprediction\n0\tcontradiction\n1\tentailment\n2\tneutral\n"
    assert (out / "RTE.tsv").read_text() == "index\tprediction\n0\tentailment\n1\tnot_entailment\n"
    assert (out / "README.txt").read_text().startswith(
        "GLUE test predictions of single-multi, seed 1 (best Avg dev score: 75.00).")


def test_experiment_without_every_task_writes_what_it_can_and_no_zip(tmp_path):
    """Five tasks (no QQP, MNLI): their files, WNLI's, and a README naming the absent ones."""
    tasks = {"CoLA": [1], "SST-2": [0], "MRPC": [1], "STS-B": [2.5], "RTE": [0]}
    _predictions(tmp_path / "runs", 0, tasks)
    data = _data(tmp_path / "data", {**{t: 1 for t in tasks}, "WNLI": 2}, wnli_train=(0, 0, 1))
    out = tmp_path / "sub"
    absent = submission.write_submission(_scores({0: 70.0}), tmp_path / "runs", "single-multi", data, out)
    assert absent == ["QQP", "MNLI", "MNLI-mm", "QNLI", "AX"]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["CoLA.tsv", "SST-2.tsv", "MRPC.tsv", "STS-B.tsv", "RTE.tsv", "WNLI.tsv", "README.txt"])
    assert (out / "WNLI.tsv").read_text() == "index\tprediction\n0\t0\n1\t0\n"
    assert (out / "README.txt").read_text().endswith(
        "Absent, so no submission zip:\n  QQP.tsv: not trained in this experiment\n"
        "  MNLI-m.tsv: not trained in this experiment\n  MNLI-mm.tsv: not trained in this experiment\n"
        "  QNLI.tsv: not trained in this experiment\n  AX.tsv: not trained in this experiment\n")
    with pytest.raises(BamError, match=r"^.*sub: 5 of 11 files missing \(QQP.tsv, MNLI-m.tsv, MNLI-mm.tsv, QNLI.tsv, "
                                       r"AX.tsv\); the GLUE server wants all of them$"):
        submission.write_zip(out, tmp_path / "submission.zip")
    assert not (tmp_path / "submission.zip").exists()


def test_test_files_the_source_lacks_are_named_as_such(tmp_path):
    """Eight tasks trained on ../shared/glue, which has no MNLI or QQP test file: `bam prepare` wrote those
    splits empty and marked absent; the other files are written and the README says why the rest are missing."""
    tasks = {"CoLA": [1], "SST-2": [0], "MRPC": [1], "STS-B": [2.5], "QNLI": [1], "RTE": [0], "AX": [2, 0]}
    _predictions(tmp_path / "runs", 0, tasks)
    data = _data(tmp_path / "data", {**{t: len(v) for t, v in tasks.items()}, "WNLI": 2})
    for task in ("QQP", "MNLI", "MNLI-mm"):
        table = pa.table({"idx": pa.array([], pa.int64())}).replace_schema_metadata({ABSENT_KEY: "true"})
        (data / task).mkdir()
        pq.write_table(table, data / task / "test.parquet")
    out = tmp_path / "sub"
    absent = submission.write_submission(_scores({0: 70.0}), tmp_path / "runs", "single-multi", data, out)
    assert absent == ["QQP", "MNLI", "MNLI-mm"]
    assert (out / "AX.tsv").read_text() == "index\tprediction\n0\tcontradiction\n1\tentailment\n"
    assert (out / "README.txt").read_text().endswith(
        "Absent, so no submission zip:\n  QQP.tsv: no test file in the data source\n"
        "  MNLI-m.tsv: no test file in the data source\n  MNLI-mm.tsv: no test file in the data source\n")


def test_missing_rows_are_refused_naming_file_and_count(tmp_path, capsys):
    runs, data = _full(tmp_path)
    _data(data, {"MNLI-mm": 5})  # the test split has 5 rows; the run predicted 3
    args = ["submission", "--scores", str(tmp_path / "scores.parquet"), "--runs-dir", str(runs), "--data-dir",
            str(data), "--out-dir", str(tmp_path / "sub")]
    _scores({0: 70.0}).to_parquet(tmp_path / "scores.parquet")
    assert bam(args) == 1
    assert capsys.readouterr().err == "bam submission: error: MNLI-mm.tsv: 2 of 5 test rows have no prediction\n"
    assert not (tmp_path / "sub").exists()  # nothing written, so nothing to zip


def test_label_outside_the_servers_vocabulary_is_refused(tmp_path):
    runs, data = _full(tmp_path)
    (runs / "single-multi").rename(tmp_path / "good")
    _predictions(runs, 0, {"AX": [0, 3, 1], "RTE": [0, 1, 1]})
    with pytest.raises(BamError, match=r"^AX.tsv: 1 of 3 predictions are outside the server's labels "
                                       r"\(entailment, neutral, contradiction\)$"):
        submission.write_submission(_scores({0: 70.0}), runs, "single-multi", data, tmp_path / "sub")
    assert not (tmp_path / "sub").exists()


def test_zip_refuses_a_file_without_the_header(tmp_path):
    runs, data = _full(tmp_path)
    submission.write_submission(_scores({0: 70.0}), runs, "single-multi", data, tmp_path / "sub")
    (tmp_path / "sub" / "QQP.tsv").write_text("0\t1\n")
    with pytest.raises(BamError, match=r"QQP.tsv: the first line is not 'index\\tprediction'$"):
        submission.write_zip(tmp_path / "sub", tmp_path / "submission.zip")
    assert not (tmp_path / "submission.zip").exists()


def test_variant_without_scores(tmp_path):
    with pytest.raises(BamError, match="no Avg dev score for variant 'multi'"):
        submission.write_submission(_scores({0: 70.0}), tmp_path, "multi", tmp_path, tmp_path / "sub")
