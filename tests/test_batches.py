"""Batchings (mixed, bucketed), packing into rows, task grouping, and the sentence-order swap."""

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import torch
from tiny_data import write_tiny_tokens

from bam_core.data.tasks import get_task
from bam_core.io import write_parquet
from bam_core.method.batches import (
    TaskBatches,
    TaskData,
    collate,
    double_unordered,
    load_split,
    pack_rows,
)

FIXTURES = Path(__file__).parent / "fixtures"

torch.set_num_threads(1)


def write_rows(path, ids, types, labels):
    write_parquet(pa.table({"idx": pa.array(range(len(ids)), pa.int64()),
                            "input_ids": pa.array(ids, pa.list_(pa.int32())),
                            "token_type_ids": pa.array(types, pa.list_(pa.int8())),
                            "label": pa.array(labels, pa.float64())}),
                  path, {"bam.fingerprint": "f", "bam.pad_token_id": "0"})


def test_double_unordered_swaps_sentences_at_token_level(tmp_path):
    write_rows(tmp_path / "STS-B" / "train.parquet",
               [[1, 5, 6, 2, 7, 2], [1, 8, 2, 9, 10, 11, 2]],
               [[0, 0, 0, 0, 1, 1], [0, 0, 0, 1, 1, 1, 1]], [5.0, 2.5])
    data = double_unordered(load_split(tmp_path, "STS-B", "train", 128))
    assert data.labels.tolist() == [1.0, 0.5, 1.0, 0.5]  # scaled by 1/5
    assert data.idx.tolist() == [0, 1, 0, 1]
    batch = collate([data], np.zeros(4, np.int64), np.arange(4))
    # lengths 6, 7, 6, 7 in rows of 7: one example per row, longest first (1, 3, 0, 2)
    assert batch.input_ids.tolist() == [[1, 8, 2, 9, 10, 11, 2], [1, 9, 10, 11, 2, 8, 2],
                                        [1, 5, 6, 2, 7, 2, 0], [1, 7, 2, 5, 6, 2, 0]]
    assert batch.token_type_ids.tolist() == [[0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 0, 1, 1],
                                             [0, 0, 0, 0, 1, 1, 0], [0, 0, 0, 1, 1, 1, 0]]
    assert batch.cls_index.tolist() == [14, 0, 21, 7]
    assert batch.real_tokens == 26 and batch.computed_tokens == 28


def test_truncation_keeps_the_first_tokens(tmp_path):
    write_rows(tmp_path / "CoLA" / "train.parquet", [[1, 4, 5, 6, 2]], [[0] * 5], [1.0])
    batch = collate([load_split(tmp_path, "CoLA", "train", 3)], np.zeros(1, np.int64), np.zeros(1, np.int64))
    assert batch.input_ids.tolist() == [[1, 4, 5]]


def test_pack_rows_first_fit_decreasing():
    # rows of 5: 5 -> row 0; 4 -> row 1; 3 fits neither -> row 2; 2 fits row 2 after the 3
    capacity, row, offset = pack_rows(np.array([5, 3, 2, 4]))
    assert capacity == 5 and row.tolist() == [0, 2, 2, 1] and offset.tolist() == [0, 0, 3, 0]
    capacity, row, offset = pack_rows(np.array([2, 2, 2]))  # ties in example order
    assert capacity == 2 and row.tolist() == [0, 1, 2] and offset.tolist() == [0, 0, 0]


def test_packed_rows_keep_each_example_to_itself(tmp_path):
    write_rows(tmp_path / "CoLA" / "train.parquet", [[1, 4, 2], [1, 4, 5, 6, 7, 8, 9, 2], [1, 5, 6, 2]],
               [[0] * 3, [0] * 8, [0] * 4], [1.0, 0.0, 1.0])
    data = load_split(tmp_path, "CoLA", "train", 128)
    batch = collate([data], np.zeros(3, np.int64), np.array([0, 1, 2]))
    # rows of 8: the 8 alone; the 4, then the 3 after it; one padding token
    assert batch.input_ids.tolist() == [[1, 4, 5, 6, 7, 8, 9, 2], [1, 5, 6, 2, 1, 4, 2, 0]]
    assert batch.position_ids.tolist() == [[0, 1, 2, 3, 4, 5, 6, 7], [0, 1, 2, 3, 0, 1, 2, 0]]
    assert batch.cls_index.tolist() == [12, 0, 8]  # example 0 at row 1 offset 4, 1 at row 0, 2 at row 1
    a, b, pad = [True] * 4 + [False] * 4, [False] * 4 + [True] * 3 + [False], [False] * 7 + [True]
    assert batch.attention_mask.shape == (2, 1, 8, 8)
    assert batch.attention_mask[1, 0].tolist() == [a] * 4 + [b] * 3 + [pad]
    assert batch.attention_mask[0, 0].all()
    assert batch.labels.tolist() == [1.0, 0.0, 1.0] and batch.slices == [("CoLA", 0, 3)]
    assert batch.real_tokens == 15 and batch.computed_tokens == 16


def test_batches_group_tasks_and_are_deterministic(tmp_path):
    write_tiny_tokens(tmp_path, tasks=("CoLA", "MNLI"))
    parts = [load_split(tmp_path, t, "train", 128) for t in ("CoLA", "MNLI")]
    plan = TaskBatches(parts, batch_size=16, epochs=2, exponent=0.75, seed=3, epoch="sum_of_sizes")
    assert plan.steps_per_epoch == 69 and plan.total_steps == 138  # ceil(1100 / 16), 2 * 69
    # reference copies: MNLI 800 has one, CoLA round((800 / 300)^0.25) = round(1.28) = 1: the same epoch
    assert TaskBatches(parts, 16, 2, 0.75, 3).total_steps == 138
    batch = plan.batch(5)
    names = [s[0] for s in batch.slices]
    assert names == sorted(set(names), key=names.index) and batch.slices[-1][2] == 16  # contiguous per task
    # min_steps past the epochs: the extra steps are further epochs, drawn as every epoch is
    longer = TaskBatches(parts, 16, 2, 0.75, 3, epoch="sum_of_sizes", min_steps=150)
    assert longer.total_steps == 150
    assert torch.equal(longer.batch(140).encoder_inputs["input_ids"],
                       TaskBatches(parts, 16, 3, 0.75, 3, epoch="sum_of_sizes").batch(140).encoder_inputs["input_ids"])
    # deterministic from (seed, epoch), so a resumed run sees the same batches
    for batching in ("mixed", "bucketed"):
        one = TaskBatches(parts, 16, 2, 0.75, 3, batching=batching).batch(100)
        two = TaskBatches(parts, 16, 2, 0.75, 3, batching=batching).batch(100)
        assert all(torch.equal(a, b) for a, b in zip(one.encoder_inputs.values(), two.encoder_inputs.values()))


def glue_lengths(task: str) -> np.ndarray:
    """A GLUE train set's token lengths (words + [CLS] and [SEP]s) in a fixed shuffled order, from the committed
    counts of tests/fixtures/glue_lengths.json (made from ../shared/glue by make_glue_lengths.py)."""
    counts = json.loads((FIXTURES / "glue_lengths.json").read_text())[task]
    lengths = np.repeat([int(n) for n in counts], list(counts.values()))
    return np.random.default_rng(0).permutation(lengths)


def share_one_task(tasks: np.ndarray) -> float:
    """Share of batches (rows of `tasks`) at least 90% of one task."""
    top = np.array([np.bincount(row).max() for row in tasks])
    return float(np.mean(top >= 0.9 * tasks.shape[1]))


def test_task_composition_on_glue_lengths():
    tasks = ("CoLA", "SST-2", "MRPC", "STS-B", "RTE")
    assert [len(glue_lengths(t)) for t in tasks] == [8551, 67349, 3668, 5749, 2490]  # GLUE's whole train sets
    parts = []
    for task in tasks:
        lengths = glue_lengths(task)
        n = len(lengths)
        parts.append(TaskData(get_task(task), "train", np.arange(n), np.zeros(1, np.int32), np.zeros(1, np.int8),
                              np.zeros(n, np.int64), lengths, np.zeros(n), "", 0))
    shares = {}
    for batching in ("mixed", "bucketed"):
        plan = TaskBatches(parts, batch_size=128, epochs=1, exponent=0.75, seed=0, batching=batching)
        tasks, _ = plan.epoch_plan(0)
        random = np.random.default_rng(1).permutation(tasks.reshape(-1)).reshape(tasks.shape)  # the same draws
        shares[batching] = share_one_task(tasks) - share_one_task(random)
    assert abs(shares["mixed"]) <= 0.01  # the paper's batches: random batches' task composition
    assert shares["bucketed"] >= 0.05  # length pools make batches of one task
