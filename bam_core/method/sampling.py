"""Task sampling: how many examples of each task an epoch of multi-task training draws.

The paper draws an example from task t with probability proportional to |D_t|^0.75 (exponent 1.0 =
"no task sampling", plain shuffling of the concatenation). The reference code reaches the same
proportions with integer dataset copies; we allocate an epoch's draws to tasks with exact
proportions (largest remainder), which has the same expectation as independent draws and no
sampling noise, so exponent 1.0 visits every example exactly once per epoch.

How many draws make an epoch is a setting. `reference_copies` is the reference code's multi-task
training set (google-research bam/data/task_weighting.py): each task repeated in whole copies,
round(|D_max|^0.25 * |D_t|^0.75 / |D_t|) of them, so the largest task (MNLI in GLUE) has one copy and
an epoch is sum_t copies_t * |D_t| examples. Its per-task loss weights only undo the copies' skew, so
the effective weights (examples x loss weight) are proportional to |D_t|^0.75, which is exactly what
our sampling draws; the copies only set the epoch's length. `sum_of_sizes` is sum_t |D_t|.
"""

from __future__ import annotations

import numpy as np

EPOCHS = ("reference_copies", "sum_of_sizes")
BATCHINGS = ("mixed", "bucketed")  # how an epoch's draws are cut into batches (batches.py)


def task_probabilities(sizes: list[int], exponent: float) -> np.ndarray:
    """p_t = |D_t|^exponent / sum_u |D_u|^exponent."""
    weights = np.asarray(sizes, dtype=np.float64) ** exponent
    return weights / weights.sum()


def allocate(total: int, probabilities: np.ndarray) -> np.ndarray:
    """Split `total` draws over tasks by `probabilities`, exactly (largest-remainder rounding)."""
    exact = total * np.asarray(probabilities, dtype=np.float64)
    counts = np.floor(exact).astype(np.int64)
    remainder = total - int(counts.sum())
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:remainder]] += 1
    return counts


def draw_examples(rng: np.random.Generator, size: int, count: int) -> np.ndarray:
    """`count` example indices of a task of `size`: whole shuffled passes, then part of one more."""
    passes = -(-count // size)
    return np.concatenate([rng.permutation(size) for _ in range(passes)])[:count]


def sample_epoch(rng: np.random.Generator, sizes: list[int], exponent: float, total: int):
    """One epoch of `total` (task, example) draws in random order: two int64 arrays."""
    counts = allocate(total, task_probabilities(sizes, exponent))
    tasks = np.repeat(np.arange(len(sizes), dtype=np.int64), counts)
    rows = np.concatenate([draw_examples(rng, s, int(c)) for s, c in zip(sizes, counts)])
    order = rng.permutation(total)
    return tasks[order], rows[order]


def reference_copies(sizes: list[int], exponent: float = 0.75) -> list[int]:
    """The reference's dataset copies, its arithmetic and rounding kept (anchor: the largest task present).

    target_t = |D_t|^e / sum_u |D_u|^e * |D_max| / (|D_max|^e / sum_u |D_u|^e); copies_t =
    round((target_t + 0.01) / |D_t|), Python 3's round, as the reference ran.
    """
    weights = [float(s) ** exponent for s in sizes]
    total = sum(weights)
    weights = [w / total for w in weights]
    anchor = max(range(len(sizes)), key=lambda t: sizes[t])
    correction = sizes[anchor] / weights[anchor]
    return [int(round((w * correction + 0.01) / s) + 1e-5) for w, s in zip(weights, sizes)]


def epoch_examples(sizes: list[int], epoch: str, exponent: float = 0.75) -> int:
    """Examples in one epoch of multi-task training under the `epoch` definition (see EPOCHS)."""
    if epoch == "sum_of_sizes":
        return int(sum(sizes))
    if epoch == "reference_copies":
        return int(sum(c * s for c, s in zip(reference_copies(sizes, exponent), sizes)))
    raise ValueError(f"unknown epoch definition {epoch!r} (one of {', '.join(EPOCHS)})")


def planned_steps(sizes: list[int], batch_size: int, epochs: float, epoch: str = "reference_copies",
                  exponent: float = 0.75, min_steps: int = 0) -> int:
    """Optimiser steps of a run, rounded as the reference does: int(ceil(epoch / batch) * epochs), at least one
    and at least min_steps (a small task's epochs rise to reach it; 0, the paper: epochs alone decide).

    The reference pads its epoch to whole batches and trains int(batches_per_epoch * epochs) steps.
    The one formula for training (TaskBatches) and the cost estimate; defaults are the schema's.
    """
    batches = -(-epoch_examples(sizes, epoch, exponent) // batch_size)
    return max(1, min_steps, int(batches * epochs))
