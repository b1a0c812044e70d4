"""Length-bucketed, task-sampled minibatches straight from the tokens parquet.

Tokens are stored unpadded, so a batch is padded only to its own longest sequence. To keep that
padding small, an epoch's task-sampled draws are cut into pools of `pool_batches` batches, each pool
is sorted by length and cut into batches, and the batches of the epoch are shuffled. Everything is
a function of (seed, epoch): the sampler's position is just the global step, so resuming needs no
sampler state. Within a batch rows are grouped by task, so each task head sees one contiguous slice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyarrow.parquet as pq
import torch

from bam_core.data.tasks import UNORDERED_TASKS, Task, get_task
from bam_core.errors import BamError
from bam_core.io import parquet_metadata
from bam_core.method.sampling import planned_steps, sample_epoch


@dataclass
class TaskData:
    """One split of one task as flat numpy arrays (no padding): row r is ids[starts[r]:starts[r]+lengths[r]]."""

    task: Task
    split: str
    idx: np.ndarray  # int64 (n,)
    ids: np.ndarray  # int32 (total tokens,)
    types: np.ndarray  # int8 (total tokens,)
    starts: np.ndarray  # int64 (n,)
    lengths: np.ndarray  # int64 (n,), capped at max_seq_length
    labels: np.ndarray  # float64 (n,): class index or regression value scaled to [0, 1]; nan when unlabelled
    fingerprint: str
    pad_id: int
    teacher: np.ndarray | None = None  # float32 (n, outputs): teacher logits / regression output
    teacher_swapped: np.ndarray | None = None  # the same on the pairs swapped (MRPC, STS-B: double_unordered)

    def __len__(self) -> int:
        return len(self.idx)


def load_split(tokens_dir, task_name: str, split: str, max_seq_length: int) -> TaskData:
    """Read `{tokens_dir}/{task}/{split}.parquet`; sequences longer than max_seq_length keep their first tokens."""
    task = get_task(task_name)
    path = f"{tokens_dir}/{task_name}/{split}.parquet"
    try:
        table = pq.read_table(path)
        meta = parquet_metadata(path)
    except FileNotFoundError:
        raise BamError(f"task {task_name}: tokens file {path} not found (run `bam tokenize`)") from None
    for col in ("idx", "input_ids", "token_type_ids", "label"):
        if col not in table.column_names:
            raise BamError(f"{path}: column {col!r} missing")
    ids_col = table.column("input_ids").combine_chunks()
    types_col = table.column("token_type_ids").combine_chunks()
    offsets = ids_col.offsets.to_numpy().astype(np.int64)
    labels = table.column("label").to_numpy(zero_copy_only=False).astype(np.float64)
    if task.is_regression:
        labels = labels / task.label_scale
    return TaskData(
        task=task,
        split=split,
        idx=table.column("idx").to_numpy().astype(np.int64),
        ids=ids_col.values.to_numpy().astype(np.int32, copy=False),
        types=types_col.values.to_numpy().astype(np.int8, copy=False),
        starts=offsets[:-1],
        lengths=np.minimum(np.diff(offsets), max_seq_length),
        labels=labels,
        fingerprint=meta.get("bam.fingerprint", ""),
        pad_id=int(meta.get("bam.pad_token_id", 0)),
    )


def double_unordered(data: TaskData) -> TaskData:
    """Append a copy of every pair with the sentences swapped: [CLS] a [SEP] b [SEP] -> [CLS] b [SEP] a [SEP].

    Segment a is the token_type 0 part ([CLS] a [SEP]), b the type 1 part (b [SEP]). Vectorised: the
    new position j of a row with n0 type-0 and n1 type-1 tokens reads old position 0 (j = 0), n0 + j - 1
    (j <= n1, inside b) or j - n1 (inside a). Rows truncated to max_seq_length are swapped as truncated.
    """
    lengths, starts = data.lengths, data.starts
    row = np.repeat(np.arange(len(data)), lengths)
    pos = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    is_a = data.types[starts[row] + pos] == 0
    n0 = np.bincount(row, weights=is_a, minlength=len(data)).astype(np.int64)[row]
    n1 = lengths[row] - n0
    src = np.where(pos == 0, 0, np.where(pos <= n1, n0 + pos - 1, pos - n1))
    new_ids = data.ids[starts[row] + src]
    new_types = (pos > n1).astype(np.int8)  # [CLS] b [SEP] is the first segment now
    swapped_ids = np.concatenate([data.ids[starts[row] + pos], new_ids])
    swapped_types = np.concatenate([data.types[starts[row] + pos], new_types])
    new_starts = np.cumsum(np.concatenate([[0], lengths, lengths]))[:-1]
    swapped_teacher = data.teacher if data.teacher_swapped is None else data.teacher_swapped
    teacher = None if data.teacher is None else np.concatenate([data.teacher, swapped_teacher])
    return replace(
        data,
        idx=np.concatenate([data.idx, data.idx]),
        ids=swapped_ids,
        types=swapped_types,
        starts=new_starts,
        lengths=np.concatenate([lengths, lengths]),
        labels=np.concatenate([data.labels, data.labels]),
        teacher=teacher,
        teacher_swapped=None,
    )


@dataclass
class Batch:
    input_ids: torch.Tensor  # (B, L) int64
    token_type_ids: torch.Tensor  # (B, L) int64
    attention_mask: torch.Tensor  # (B, L) int64
    labels: torch.Tensor  # (B,) float32: class index or scaled regression value
    slices: list  # [(task name, start, end)]: rows of each task, contiguous
    teacher: list | None  # per slice: (n, outputs) float32 tensor, or None without a teacher
    real_tokens: int  # non-padding tokens, for throughput

    def to(self, device, non_blocking=False) -> "Batch":
        move = lambda t: t.to(device, non_blocking=non_blocking)  # noqa: E731
        teacher = None if self.teacher is None else [move(t) for t in self.teacher]
        return replace(
            self,
            input_ids=move(self.input_ids),
            token_type_ids=move(self.token_type_ids),
            attention_mask=move(self.attention_mask),
            labels=move(self.labels),
            teacher=teacher,
        )


def collate(parts: list[TaskData], tasks: np.ndarray, rows: np.ndarray, pin: bool = False) -> Batch:
    """Pad the given (task, row) examples to their longest sequence, grouped by task."""
    order = np.argsort(tasks, kind="stable")
    tasks, rows = tasks[order], rows[order]
    lengths = np.empty(len(rows), dtype=np.int64)
    starts = np.empty(len(rows), dtype=np.int64)
    labels = np.empty(len(rows), dtype=np.float32)
    slices, teacher = [], []
    bounds = np.flatnonzero(np.diff(tasks)) + 1
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(rows)]):
        part, r = parts[tasks[lo]], rows[lo:hi]
        lengths[lo:hi], starts[lo:hi], labels[lo:hi] = part.lengths[r], part.starts[r], part.labels[r]
        slices.append((part.task.name, int(lo), int(hi)))
        teacher.append(None if part.teacher is None else torch.from_numpy(part.teacher[r]))
    width = int(lengths.max())
    pos = np.arange(width)
    mask = pos[None, :] < lengths[:, None]
    ids = np.full((len(rows), width), parts[0].pad_id, dtype=np.int64)
    types = np.zeros((len(rows), width), dtype=np.int64)
    for (name, lo, hi), t in zip(slices, tasks[np.r_[0, bounds]]):
        part, m = parts[t], mask[lo:hi]
        flat = (starts[lo:hi, None] + pos[None, :])[m]
        ids[lo:hi][m] = part.ids[flat]
        types[lo:hi][m] = part.types[flat]
    out = [torch.from_numpy(a) for a in (ids, types, mask.astype(np.int64), labels)]
    if pin:
        out = [t.pin_memory() for t in out]
    has_teacher = all(t is not None for t in teacher)
    return Batch(*out, slices=slices, teacher=teacher if has_teacher else None, real_tokens=int(lengths.sum()))


class TaskBatches:
    """The batch at every global step of a run: task-sampled, length-bucketed, deterministic from the seed.

    An epoch is sum_t |D_t| examples rounded up to whole batches; total_steps = ceil(epochs * sum|D_t| / B),
    so the last epoch may be cut short.
    """

    def __init__(self, parts: list[TaskData], batch_size: int, epochs: float, exponent: float, seed: int,
                 pool_batches: int = 64):
        self.parts, self.batch_size, self.exponent, self.seed = parts, batch_size, exponent, seed
        self.pool_batches = pool_batches
        self.sizes = [len(p) for p in parts]
        if min(self.sizes) == 0:
            empty = next(p.task.name for p in parts if len(p) == 0)
            raise BamError(f"task {empty}: no training examples")
        examples = sum(self.sizes)
        self.steps_per_epoch = -(-examples // batch_size)
        self.total_steps = planned_steps(self.sizes, batch_size, epochs)
        self._epoch, self._plan = None, None

    def epoch_plan(self, epoch: int):
        """(tasks, rows), each (steps_per_epoch, batch_size) int64: the epoch's batches in training order."""
        rng = np.random.default_rng([self.seed, epoch])
        total = self.steps_per_epoch * self.batch_size
        tasks, rows = sample_epoch(rng, self.sizes, self.exponent, total)
        lengths = np.empty(total, dtype=np.int64)
        for t, part in enumerate(self.parts):
            sel = tasks == t
            lengths[sel] = part.lengths[rows[sel]]
        pool = np.arange(total) // (self.pool_batches * self.batch_size)
        order = np.lexsort((lengths, pool))  # by pool, then by length within the pool
        tasks = tasks[order].reshape(-1, self.batch_size)
        rows = rows[order].reshape(-1, self.batch_size)
        shuffle = rng.permutation(self.steps_per_epoch)
        return tasks[shuffle], rows[shuffle]

    def batch(self, step: int, pin: bool = False) -> Batch:
        epoch, i = divmod(step, self.steps_per_epoch)
        if epoch != self._epoch:
            self._epoch, self._plan = epoch, self.epoch_plan(epoch)
        tasks, rows = self._plan
        return collate(self.parts, tasks[i], rows[i], pin=pin)
