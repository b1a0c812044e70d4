"""Task-sampled minibatches straight from the tokens parquet, packed into rows without padding between examples.

Batching `mixed` (default; the paper: tasks "shuffled together, even within minibatches") cuts the
epoch's shuffled task-sampled draws into consecutive batches, so a batch has the task composition of
a random batch. Batching `bucketed` sorts pools of `pool_batches` batches by length before cutting,
which makes batches of one task (GLUE tasks differ in length). Either way a batch's examples are packed
into rows as long as its longest example, attention kept within each example (a block-diagonal mask), and
the encoder runs once per batch: a mixed batch computes few padding tokens, in one call.
Everything is a function of (seed, epoch): the sampler's position is just the global step, so
resuming needs no sampler state. Examples are grouped by task, so each task head sees one contiguous slice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
import numpy as np
import pyarrow.parquet as pq
import torch

from bam_core.data.tasks import Task, get_task
from bam_core.errors import BamError
from bam_core.io import parquet_metadata
from bam_core.method.sampling import BATCHINGS, planned_steps, sample_epoch

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
        labels = task.to_unit(labels)
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
    """A batch in task-grouped example order, packed into rows for one encoder call.

    Several examples share a row of `capacity` tokens (the batch's longest example); the attention mask is
    block-diagonal, so each token sees only its own example's tokens, and position ids restart at each
    example: every example is encoded as if alone. `cls_index` finds each example's first token.
    """

    input_ids: torch.Tensor  # (rows, capacity) int64, pad_id after the last example of a row
    token_type_ids: torch.Tensor  # (rows, capacity) int64
    position_ids: torch.Tensor  # (rows, capacity) int64: position within the example
    attention_mask: torch.Tensor  # (rows, 1, capacity, capacity) bool: query and key in the same example
    cls_index: torch.Tensor  # (B,) int64: row * capacity + offset of example b's first token
    labels: torch.Tensor  # (B,) float32: class index or scaled regression value
    slices: list  # [(task name, start, end)]: examples of each task, contiguous
    teacher: list | None  # per slice: (n, outputs) float32 tensor, or None without a teacher
    real_tokens: int  # non-padding tokens, for throughput

    @property
    def computed_tokens(self) -> int:
        return self.input_ids.numel()

    @property
    def encoder_inputs(self) -> dict:
        return {k: getattr(self, k) for k in ("input_ids", "token_type_ids", "position_ids", "attention_mask",
                                              "cls_index")}

    def to(self, device, non_blocking=False) -> Batch:
        moved = {k: v.to(device, non_blocking=non_blocking) for k, v in self.encoder_inputs.items()}
        teacher = None if self.teacher is None else [t.to(device, non_blocking=non_blocking) for t in self.teacher]
        return replace(self, **moved, labels=self.labels.to(device, non_blocking=non_blocking), teacher=teacher)


def pack_rows(lengths: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """(capacity, row, offset): examples packed first-fit decreasing into rows of the longest one's length.

    Ties keep example order (stable sort), so the packing is a function of the lengths alone.
    """
    capacity = int(lengths.max())
    row, offset = np.empty(len(lengths), np.int64), np.empty(len(lengths), np.int64)
    used: list[int] = []
    for i in np.argsort(-lengths, kind="stable"):
        r = next((r for r, u in enumerate(used) if u + lengths[i] <= capacity), len(used))
        if r == len(used):
            used.append(0)
        row[i], offset[i] = r, used[r]
        used[r] += int(lengths[i])
    return capacity, row, offset


def _ragged(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Flat token positions of rows starts[i] .. starts[i] + lengths[i], concatenated."""
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()))


def collate(parts: list[TaskData], tasks: np.ndarray, rows: np.ndarray, pin: bool = False) -> Batch:
    """The given (task, row) examples grouped by task and packed into rows (see Batch)."""
    order = np.argsort(tasks, kind="stable")
    tasks, rows = tasks[order], rows[order]
    lengths = np.empty(len(rows), dtype=np.int64)
    labels = np.empty(len(rows), dtype=np.float32)
    ids, types, slices, teacher = [], [], [], []
    bounds = np.flatnonzero(np.diff(tasks)) + 1
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(rows)]):
        part, r = parts[tasks[lo]], rows[lo:hi]
        lengths[lo:hi], labels[lo:hi] = part.lengths[r], part.labels[r]
        flat = _ragged(part.starts[r], part.lengths[r])
        ids.append(part.ids[flat])
        types.append(part.types[flat])
        slices.append((part.task.name, int(lo), int(hi)))
        teacher.append(None if part.teacher is None else torch.from_numpy(part.teacher[r]))
    capacity, row, offset = pack_rows(lengths)
    n_rows = int(row.max()) + 1
    example = np.repeat(np.arange(len(rows)), lengths)  # the example of each token, tokens in batch order
    position = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    slot = np.repeat(row * capacity + offset, lengths) + position  # its place in the flattened rows
    packed_ids = np.full(n_rows * capacity, parts[0].pad_id, dtype=np.int64)
    packed_types = np.zeros(n_rows * capacity, dtype=np.int64)
    packed_pos = np.zeros(n_rows * capacity, dtype=np.int64)
    segment = np.full(n_rows * capacity, -1, dtype=np.int64)  # padding is one segment: it sees only padding
    packed_ids[slot] = np.concatenate(ids)
    packed_types[slot] = np.concatenate(types)
    packed_pos[slot], segment[slot] = position, example
    segment = segment.reshape(n_rows, capacity)
    tensors = {
        "input_ids": torch.from_numpy(packed_ids.reshape(n_rows, capacity)),
        "token_type_ids": torch.from_numpy(packed_types.reshape(n_rows, capacity)),
        "position_ids": torch.from_numpy(packed_pos.reshape(n_rows, capacity)),
        "attention_mask": torch.from_numpy(segment[:, None, :, None] == segment[:, None, None, :]),
        "cls_index": torch.from_numpy(row * capacity + offset),
        "labels": torch.from_numpy(labels),
    }
    if pin:
        tensors = {k: v.pin_memory() for k, v in tensors.items()}
    has_teacher = all(t is not None for t in teacher)
    return Batch(**tensors, slices=slices, teacher=teacher if has_teacher else None, real_tokens=int(lengths.sum()))


class TaskBatches:
    """The batch at every global step of a run: task-sampled, deterministic from the seed.

    An epoch is `epoch` (sampling.EPOCHS) examples rounded up to whole batches, and the run
    trains planned_steps(...) = int(steps_per_epoch * epochs) steps, as the reference does, or min_steps
    when more: the epochs past the last whole one are drawn as every epoch is.
    """

    def __init__(self, parts: list[TaskData], batch_size: int, epochs: float, exponent: float, seed: int,
                 batching: str = "mixed", epoch: str = "reference_copies", pool_batches: int = 64,
                 min_steps: int = 0):
        if batching not in BATCHINGS:
            raise BamError(f"unknown batching {batching!r} (one of {', '.join(BATCHINGS)})")
        self.parts, self.batch_size, self.exponent, self.seed = parts, batch_size, exponent, seed
        self.batching, self.pool_batches = batching, pool_batches
        self.sizes = [len(p) for p in parts]
        if min(self.sizes) == 0:
            empty = next(p.task.name for p in parts if len(p) == 0)
            raise BamError(f"task {empty}: no training examples")
        self.steps_per_epoch = planned_steps(self.sizes, batch_size, 1, epoch, exponent)
        self.total_steps = planned_steps(self.sizes, batch_size, epochs, epoch, exponent, min_steps)
        self._epoch, self._plan = None, None

    def epoch_plan(self, epoch: int):
        """(tasks, rows), each (steps_per_epoch, batch_size) int64: the epoch's batches in training order."""
        rng = np.random.default_rng([self.seed, epoch])
        total = self.steps_per_epoch * self.batch_size
        tasks, rows = sample_epoch(rng, self.sizes, self.exponent, total)  # in random order
        if self.batching == "mixed":
            return tasks.reshape(-1, self.batch_size), rows.reshape(-1, self.batch_size)
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
