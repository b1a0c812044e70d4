"""The distillation loss with teacher annealing (paper section 3).

Classification: cross-entropy against the soft target lambda * onehot(y) + (1 - lambda) * softmax(teacher
logits) (temperature 1). Regression: squared error against lambda * y + (1 - lambda) * teacher output,
y scaled to [0, 1]. Without a teacher the target is the gold label. Summed over the batch's examples
(the reference code) or averaged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from bam_core.data.tasks import get_task


def example_losses(outputs: list[torch.Tensor], labels: torch.Tensor, slices: list, teacher: list | None,
                   lam: float) -> torch.Tensor:
    """(B,) float32 per-example losses, in batch row order (slices are contiguous and ordered)."""
    losses = []
    for i, (out, (name, lo, hi)) in enumerate(zip(outputs, slices)):
        out, y = out.float(), labels[lo:hi]
        task = get_task(name)
        if task.is_regression:
            target = y if teacher is None else lam * y + (1.0 - lam) * teacher[i].reshape(-1)
            losses.append((out - target) ** 2)
        else:
            target = F.one_hot(y.long(), task.num_outputs).float()
            if teacher is not None:
                target = lam * target + (1.0 - lam) * torch.softmax(teacher[i].float(), dim=-1)
            losses.append(-(target * torch.log_softmax(out, dim=-1)).sum(-1))
    return torch.cat(losses)


def reduce(losses: torch.Tensor, reduction: str) -> torch.Tensor:
    return losses.sum() if reduction == "sum" else losses.mean()


class NonFiniteWatch:
    """Remembers on the device the first step whose loss was nan/inf, and its task: no host sync per step."""

    def __init__(self, tasks: list[str], device):
        self.tasks = list(tasks)
        self.step = torch.full((), -1, dtype=torch.int64, device=device)
        self.task = torch.full((), -1, dtype=torch.int64, device=device)

    def update(self, step: int, losses: torch.Tensor, slices: list) -> None:
        finite = torch.stack([torch.isfinite(losses[lo:hi]).all() for _, lo, hi in slices])
        task_ids = torch.tensor([self.tasks.index(name) for name, _, _ in slices], device=losses.device)
        new = (self.step < 0) & ~finite.all()
        self.step = torch.where(new, step, self.step)
        self.task = torch.where(new, task_ids[torch.argmin(finite.int())], self.task)

    def first(self) -> tuple[int, str] | None:
        """(step, task) of the first non-finite loss, or None; syncs with the device."""
        step = int(self.step)
        return None if step < 0 else (step, self.tasks[int(self.task)])
