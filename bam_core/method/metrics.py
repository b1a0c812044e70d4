"""GLUE dev metrics, x100 as in the paper: Matthews correlation (CoLA), Spearman (STS-B), accuracy."""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

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


def spearman(pred, gold) -> float:
    rho = spearmanr(pred, gold).statistic
    return 0.0 if np.isnan(rho) else float(rho)


METRICS = {"mcc": matthews, "spearman": spearman, "accuracy": accuracy}


def task_score(task: Task, pred, gold) -> float:
    """The task's metric x100 (the paper's scale)."""
    return 100.0 * METRICS[task.metric](pred, gold)
