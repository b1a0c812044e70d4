"""Merging runs' logits into a teacher file (one run set, or an ensemble's mean), and a student refusing
logits that do not match its data."""

import json
import math

import numpy as np
import pyarrow.parquet as pq
import pytest
from tiny_data import write_tiny_tokens

from bam_core.errors import BamError
from bam_core.io import parquet_metadata, write_parquet
from bam_core.method.batches import double_unordered, load_split
from bam_core.method.teachers import attach_teacher, logits_metadata, logits_table, main


@pytest.fixture(scope="module")
def tokens(tmp_path_factory):
    return write_tiny_tokens(tmp_path_factory.mktemp("tok"), tasks=("CoLA", "STS-B", "RTE", "MNLI", "MRPC"))


def teacher_file(path, tokens, task, classes=None, drop=0, fingerprint=None, swapped_offset=None):
    """Logits 0, 1, 2, ... row by row; with swapped_offset, swapped rows holding the same plus the offset."""
    data = load_split(tokens, task, "train", 128)
    k = classes or data.task.num_outputs
    logits = np.arange(len(data) * k, dtype=np.float32).reshape(len(data), k)
    rows = [(task, "train", data.idx[drop:], logits[drop:])]
    if swapped_offset is not None:
        rows.append((task, "train", data.idx, logits + swapped_offset, True))
    table = logits_table(rows)
    fps = {task: {"train": fingerprint or data.fingerprint}}
    write_parquet(table, path, logits_metadata(fps, [f"runs/{task}"]))
    return path


def test_merge_and_attach(tokens, tmp_path):
    a = teacher_file(tmp_path / "a.parquet", tokens, "CoLA")
    b = teacher_file(tmp_path / "b.parquet", tokens, "STS-B")
    assert main(["--out", str(tmp_path / "t.parquet"), "--member", str(a), str(b)]) == 0
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
        main(["--out", str(tmp_path / "t.parquet"), "--member", str(a), str(a)])


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


def test_swapped_copy_gets_the_teachers_swapped_prediction(tokens, tmp_path):
    path = teacher_file(tmp_path / "t.parquet", tokens, "MRPC", swapped_offset=1000.0)
    part = load_split(tokens, "MRPC", "train", 128)
    attach_teacher(str(path), [part], swapped_tasks=("MRPC",))
    doubled = double_unordered(part)
    n = len(part)
    assert doubled.teacher[3].tolist() == [6.0, 7.0]  # the pair as given: row 3's logits
    assert doubled.teacher[n + 3].tolist() == [1006.0, 1007.0]  # its swapped copy: the swapped prediction
    assert doubled.idx[n + 3] == part.idx[3]


def test_doubling_student_refuses_a_teacher_without_swapped_rows(tokens, tmp_path):
    path = teacher_file(tmp_path / "t.parquet", tokens, "MRPC")
    with pytest.raises(BamError) as err:
        attach_teacher(str(path), [load_split(tokens, "MRPC", "train", 128)], swapped_tasks=("MRPC",))
    assert str(err.value) == ("task MRPC: teacher logits have no predictions on the swapped pairs, "
                              "which the student trains on (double_unordered)")


def member_file(path, rows, fingerprint="fp"):
    """A run's logits file written by hand: rows [(task, idx list, logits list of lists)], all train."""
    table = logits_table([(task, "train", np.array(idx), np.array(logits)) for task, idx, logits in rows])
    fps = {task: {"train": fingerprint} for task, _, _ in rows}
    write_parquet(table, path, logits_metadata(fps, [str(path.parent)]))
    return str(path)


def test_ensemble_teacher_is_the_mean_of_three_teachers_probabilities(tmp_path):
    ln = math.log
    # RTE, idx 0: probabilities (1/2, 1/2), (3/4, 1/4), (1/5, 4/5) -> mean (1.45/3, 1.55/3)
    #      idx 1: (1/10, 9/10), (1/2, 1/2), (7/10, 3/10)          -> mean (1.3/3, 1.7/3)
    # STS-B (regression), idx 0: 0.2, 0.5, 0.8 -> 0.5; idx 1: 0.1, 0.1, 0.4 -> 0.2
    members = [
        [member_file(tmp_path / "s0" / "logits.parquet",
                     [("RTE", [0, 1], [[0.0, 0.0], [0.0, ln(9)]]), ("STS-B", [0, 1], [[0.2], [0.1]])])],
        [member_file(tmp_path / "s1" / "logits.parquet",  # rows in another order: aligned by idx
                     [("RTE", [1, 0], [[0.0, 0.0], [ln(3), 0.0]]), ("STS-B", [1, 0], [[0.1], [0.5]])])],
        [member_file(tmp_path / "s2r" / "logits.parquet", [("RTE", [0, 1], [[0.0, ln(4)], [ln(7), ln(3)]])]),
         member_file(tmp_path / "s2s" / "logits.parquet", [("STS-B", [0, 1], [[0.8], [0.4]])])],
    ]
    out = tmp_path / "ensemble.parquet"
    assert main(["--out", str(out), *(a for m in members for a in ["--member", *m])]) == 0
    table = pq.read_table(out).to_pandas().set_index(["task", "idx"])["logits"]
    expected = {("RTE", 0): [1.45 / 3, 1.55 / 3], ("RTE", 1): [1.3 / 3, 1.7 / 3]}
    for key, probs in expected.items():
        np.testing.assert_allclose(table[key], np.log(probs), rtol=1e-6)  # stored: log of the mean
        stored = np.asarray(table[key], dtype=np.float64)
        np.testing.assert_allclose(np.exp(stored) / np.exp(stored).sum(), probs, rtol=1e-6)  # student's softmax
    np.testing.assert_allclose([table[("STS-B", 0)][0], table[("STS-B", 1)][0]], [0.5, 0.2], rtol=1e-6)
    meta = parquet_metadata(out)
    assert json.loads(meta["bam.ensemble"]) == members
    assert len(json.loads(meta["bam.runs"])) == 4


def test_ensemble_members_covering_different_idx_are_refused(tmp_path):
    a = member_file(tmp_path / "s0" / "logits.parquet", [("RTE", [0, 1, 2], [[0.0, 0.0]] * 3)])
    b = member_file(tmp_path / "s1" / "logits.parquet", [("RTE", [0, 1, 5], [[0.0, 0.0]] * 3)])
    with pytest.raises(BamError) as err:
        main(["--out", str(tmp_path / "e.parquet"), "--member", a, "--member", b])
    assert str(err.value) == f"task RTE: teacher runs {a} and {b} cover different idx sets (train)"
    assert not (tmp_path / "e.parquet").exists()


def test_ensemble_members_on_different_data_are_refused(tmp_path):
    a = member_file(tmp_path / "s0" / "logits.parquet", [("RTE", [0], [[0.0, 0.0]])])
    b = member_file(tmp_path / "s1" / "logits.parquet", [("RTE", [0], [[0.0, 0.0]])], fingerprint="other")
    with pytest.raises(BamError) as err:
        main(["--out", str(tmp_path / "e.parquet"), "--member", a, "--member", b])
    assert str(err.value) == f"task RTE: teacher runs {a} and {b} were computed on different data (fingerprints differ)"
