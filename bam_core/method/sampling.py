"""Task sampling: how many examples of each task an epoch of multi-task training draws.

The paper draws an example from task t with probability proportional to |D_t|^0.75 (exponent 1.0 =
"no task sampling", plain shuffling of the concatenation). The reference code reaches the same
proportions with integer dataset copies; we allocate an epoch's draws to tasks with exact
proportions (largest remainder), which has the same expectation as independent draws and no
sampling noise, so exponent 1.0 visits every example exactly once per epoch.
"""

from __future__ import annotations

import math

import numpy as np


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


def planned_steps(sizes: list[int], batch_size: int, epochs: float, epoch: str = "sum_of_sizes") -> int:
    """Optimisation steps of a run: ceil(epochs * sum_t |D_t| / batch_size), at least one.

    The one formula for training (TaskBatches) and for the cost estimate, so the two cannot drift.
    `epoch` names what an epoch is; only sum_of_sizes is implemented on this branch.
    """
    return max(1, math.ceil(epochs * sum(sizes) / batch_size))
