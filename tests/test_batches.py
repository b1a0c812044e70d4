"""Length-bucketed batches, task grouping, padding, and the sentence-order swap."""

import numpy as np
import pyarrow as pa
import torch
from tiny_data import write_tiny_tokens

from bam_core.io import write_parquet
from bam_core.method.batches import TaskBatches, collate, double_unordered, load_split

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
    assert batch.input_ids.tolist() == [[1, 5, 6, 2, 7, 2, 0], [1, 8, 2, 9, 10, 11, 2],
                                        [1, 7, 2, 5, 6, 2, 0], [1, 9, 10, 11, 2, 8, 2]]
    assert batch.token_type_ids.tolist() == [[0, 0, 0, 0, 1, 1, 0], [0, 0, 0, 1, 1, 1, 1],
                                             [0, 0, 0, 1, 1, 1, 0], [0, 0, 0, 0, 0, 1, 1]]
    assert batch.attention_mask.sum(1).tolist() == [6, 7, 6, 7]
    assert batch.real_tokens == 26


def test_truncation_keeps_the_first_tokens(tmp_path):
    write_rows(tmp_path / "CoLA" / "train.parquet", [[1, 4, 5, 6, 2]], [[0] * 5], [1.0])
    batch = collate([load_split(tmp_path, "CoLA", "train", 3)], np.zeros(1, np.int64), np.zeros(1, np.int64))
    assert batch.input_ids.tolist() == [[1, 4, 5]]


def test_batches_group_tasks_and_bucket_lengths(tmp_path):
    write_tiny_tokens(tmp_path, tasks=("CoLA", "MNLI"))
    parts = [load_split(tmp_path, t, "train", 128) for t in ("CoLA", "MNLI")]
    plan = TaskBatches(parts, batch_size=16, epochs=2, exponent=0.75, seed=3, pool_batches=8)
    assert plan.steps_per_epoch == 69 and plan.total_steps == 138  # ceil(1100 / 16), ceil(2 * 1100 / 16)
    batch = plan.batch(5)
    names = [s[0] for s in batch.slices]
    assert names == sorted(set(names), key=names.index) and batch.slices[-1][2] == 16  # contiguous per task
    # bucketing: far less padding than random batches of the same draws
    tasks, rows = plan.epoch_plan(0)
    lengths = np.where(tasks == 0, parts[0].lengths[np.minimum(rows, 299)], parts[1].lengths[rows])
    bucketed_pad = (lengths.max(1, keepdims=True) - lengths).sum()
    shuffled = np.random.default_rng(0).permutation(lengths.reshape(-1)).reshape(lengths.shape)
    random_pad = (shuffled.max(1, keepdims=True) - shuffled).sum()
    assert bucketed_pad < random_pad / 3
    # deterministic from (seed, epoch), so a resumed run sees the same batches
    again = TaskBatches(parts, batch_size=16, epochs=2, exponent=0.75, seed=3, pool_batches=8)
    assert torch.equal(again.batch(100).input_ids, plan.batch(100).input_ids)
