"""GLUE dev metrics, x100 as in the paper: Matthews correlation (CoLA), Spearman (STS-B), accuracy."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
    """Pearson correlation of the average ranks (ties share their mean rank), as scipy's spearmanr; pandas'
    ranks keep scipy.stats (about 1 s) out of every training job's start-up. 0 when a side is constant."""
    ranks = pd.DataFrame({"pred": np.asarray(pred, dtype=float), "gold": np.asarray(gold, dtype=float)}).rank()
    if ranks["pred"].nunique() < 2 or ranks["gold"].nunique() < 2:
        return 0.0
    return float(np.corrcoef(ranks["pred"], ranks["gold"])[0, 1])


METRICS = {"mcc": matthews, "spearman": spearman, "accuracy": accuracy}


def task_score(task: Task, pred, gold) -> float:
    """The task's metric x100 (the paper's scale)."""
    return 100.0 * METRICS[task.metric](pred, gold)
