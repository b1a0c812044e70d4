"""Merging runs' logits into a teacher file, and a student refusing logits that do not match its data."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from tiny_data import write_tiny_tokens

from bam_core.errors import BamError
from bam_core.io import parquet_metadata, write_parquet
from bam_core.method.batches import load_split
from bam_core.method.teachers import attach_teacher, logits_metadata, logits_table, main


@pytest.fixture(scope="module")
def tokens(tmp_path_factory):
    return write_tiny_tokens(tmp_path_factory.mktemp("tok"), tasks=("CoLA", "STS-B", "RTE", "MNLI"))


def teacher_file(path, tokens, task, classes=None, drop=0, fingerprint=None):
    data = load_split(tokens, task, "train", 128)
    k = classes or data.task.num_outputs
    logits = np.arange(len(data) * k, dtype=np.float32).reshape(len(data), k)
    table = logits_table([(task, "train", data.idx[drop:], logits[drop:])])
    fps = {task: {"train": fingerprint or data.fingerprint}}
    write_parquet(table, path, logits_metadata(fps, [f"runs/{task}"]))
    return path


def test_merge_and_attach(tokens, tmp_path):
    a = teacher_file(tmp_path / "a.parquet", tokens, "CoLA")
    b = teacher_file(tmp_path / "b.parquet", tokens, "STS-B")
    assert main(["--out", str(tmp_path / "t.parquet"), str(a), str(b)]) == 0
    meta = parquet_metadata(tmp_path / "t.parquet")
    assert json.loads(meta["bam.runs"]) == ["runs/CoLA", "runs/STS-B"]
    assert set(json.loads(meta["bam.fingerprints"])) == {"CoLA", "STS-B"}
    assert pq.read_table(tmp_path / "t.parquet").num_rows == 300 + 200
    parts = [load_split(tokens, t, "train", 128) for t in ("CoLA", "STS-B")]
    attach_teacher(str(tmp_path / "t.parquet"), parts)
    assert parts[0].teacher.shape == (300, 2) and parts[0].teacher[3].tolist() == [6.0, 7.0]
    assert parts[1].teacher.shape == (200, 1) and parts[1].teacher[5, 0] == 5.0


def test_task_twice_is_refused(tokens, tmp_path):
    a = teacher_file(tmp_path / "a.parquet", tokens, "CoLA")
    with pytest.raises(BamError, match="task CoLA appears in two teacher runs"):
        main(["--out", str(tmp_path / "t.parquet"), str(a), str(a)])


@pytest.mark.parametrize("task, kwargs, message", [
    ("RTE", {"drop": 3}, "task RTE: 3 train idx missing from teacher logits"),
    ("MNLI", {"classes": 2}, "task MNLI: teacher has 2 classes, task has 3"),
    ("CoLA", {"fingerprint": "other"}, "task CoLA: fingerprint differs (teacher computed on other data)"),
])
def test_mismatch_is_refused(tokens, tmp_path, task, kwargs, message):
    path = teacher_file(tmp_path / "t.parquet", tokens, task, **kwargs)
    with pytest.raises(BamError) as err:
        attach_teacher(str(path), [load_split(tokens, task, "train", 128)])
    assert str(err.value) == message


def test_task_not_covered(tokens, tmp_path):
    path = teacher_file(tmp_path / "t.parquet", tokens, "CoLA")
    with pytest.raises(BamError, match=r"task RTE: not in teacher logits"):
        attach_teacher(str(path), [load_split(tokens, "RTE", "train", 128)])
