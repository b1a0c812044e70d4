"""Distillation loss with teacher annealing against numbers computed by hand."""

import math

import pytest
import torch

from bam_core.method.losses import example_losses, reduce

torch.set_num_threads(1)


def hand_losses(lam):
    # classification (RTE): logits (1, -1), gold 0, teacher logits (0, 2)
    log_z = math.log(math.exp(1) + math.exp(-1))
    log_p = (1 - log_z, -1 - log_z)
    teacher = (1 / (1 + math.exp(2)), math.exp(2) / (1 + math.exp(2)))
    target = (lam * 1 + (1 - lam) * teacher[0], lam * 0 + (1 - lam) * teacher[1])
    ce = -(target[0] * log_p[0] + target[1] * log_p[1])
    # regression (STS-B): output 0.6, gold 4.0 / 5 = 0.8, teacher output 0.2
    se = (0.6 - (lam * 0.8 + (1 - lam) * 0.2)) ** 2
    return ce, se


@pytest.mark.parametrize("lam", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_loss_of_two_example_batch(lam, reduction):
    outputs = [torch.tensor([[1.0, -1.0]]), torch.tensor([0.6])]
    labels = torch.tensor([0.0, 0.8])
    slices = [("RTE", 0, 1), ("STS-B", 1, 2)]
    teacher = [torch.tensor([[0.0, 2.0]]), torch.tensor([[0.2]])]
    losses = example_losses(outputs, labels, slices, teacher, lam)
    ce, se = hand_losses(lam)
    assert losses.tolist() == pytest.approx([ce, se], rel=1e-6)
    expected = ce + se if reduction == "sum" else (ce + se) / 2
    assert reduce(losses, reduction).item() == pytest.approx(expected, rel=1e-6)


def test_without_teacher_the_target_is_gold():
    outputs = [torch.tensor([[1.0, -1.0]]), torch.tensor([0.6])]
    losses = example_losses(outputs, torch.tensor([1.0, 0.8]), [("RTE", 0, 1), ("STS-B", 1, 2)], None, 0.0)
    log_z = math.log(math.exp(1) + math.exp(-1))
    assert losses.tolist() == pytest.approx([-(-1 - log_z), (0.6 - 0.8) ** 2], rel=1e-6)
