"""Dev metrics, x100 as in the paper: Matthews correlation (CoLA), Spearman (STS-B), accuracy; and for
tasks of your own F1 (of the second label, as GLUE's MRPC and QQP F1) and Pearson correlation."""

from __future__ import annotations

import numpy as np

from bam_core.data.tasks import Task


def accuracy(pred, gold) -> float:
    return float(np.mean(np.asarray(pred) == np.asarray(gold)))


def matthews(pred, gold) -> float:
    """Binary MCC = (tp*tn - fp*fn) / sqrt((tp+fp)(tp+fn)(tn+fp)(tn+fn)); 0 when a margin is empty."""
    pred, gold = np.asarray(pred).astype(bool), np.asarray(gold).astype(bool)
    tp, tn = float(np.sum(pred & gold)), float(np.sum(~pred & ~gold))
    fp, fn = float(np.sum(pred & ~gold)), float(np.sum(~pred & gold))
    denom = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return 0.0 if denom == 0 else float((tp * tn - fp * fn) / denom)


def average_ranks(x) -> np.ndarray:
    """Ranks from 1, ties sharing their mean rank: scipy.stats.rankdata(x, "average")'s algorithm."""
    x = np.asarray(x, dtype=float)
    order = np.argsort(x, kind="mergesort")
    inverse = np.empty(len(x), dtype=np.intp)
    inverse[order] = np.arange(len(x))
    ordered = x[order]
    first = np.r_[True, ordered[1:] != ordered[:-1]]  # the first of each run of equal values
    dense = np.cumsum(first)[inverse]
    bounds = np.r_[np.flatnonzero(first), len(x)]
    return 0.5 * (bounds[dense] + bounds[dense - 1] + 1)


def spearman(pred, gold) -> float:
    """Pearson correlation of the average ranks, as scipy's spearmanr; computed here, since importing
    scipy.stats (about 1 s) or pandas (0.5 s) would add to every training job's start-up. 0 when a side is
    constant."""
    pred, gold = np.asarray(pred, dtype=float), np.asarray(gold, dtype=float)
    if len(np.unique(pred)) < 2 or len(np.unique(gold)) < 2:
        return 0.0
    return float(np.corrcoef(average_ranks(pred), average_ranks(gold))[0, 1])


def f1(pred, gold) -> float:
    """Binary F1 of the positive class (label index 1) = 2tp / (2tp + fp + fn); 0 when there is no positive."""
    pred, gold = np.asarray(pred).astype(bool), np.asarray(gold).astype(bool)
    tp, fp, fn = float(np.sum(pred & gold)), float(np.sum(pred & ~gold)), float(np.sum(~pred & gold))
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def pearson(pred, gold) -> float:
    """Pearson correlation; 0 when a side is constant (as spearman)."""
    pred, gold = np.asarray(pred, dtype=float), np.asarray(gold, dtype=float)
    if len(np.unique(pred)) < 2 or len(np.unique(gold)) < 2:
        return 0.0
    return float(np.corrcoef(pred, gold)[0, 1])


METRICS = {"mcc": matthews, "spearman": spearman, "accuracy": accuracy, "f1": f1, "pearson": pearson}


def task_score(task: Task, pred, gold) -> float:
    """The task's metric x100 (the paper's scale)."""
    return 100.0 * METRICS[task.metric](pred, gold)
