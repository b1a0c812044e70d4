"""The multi-task model: shared encoder, per-task heads, init kinds, save/load."""

import pytest
import torch
from tiny_data import write_tiny_config

from bam_core.errors import BamError
from bam_core.method.model import build_model, save_model

torch.set_num_threads(1)


def test_heads_on_their_rows_and_sigmoid_regression(tmp_path):
    config = write_tiny_config(tmp_path / "enc")
    torch.manual_seed(0)
    model = build_model({"kind": "config", "path": str(config)}, ["MNLI", "STS-B"], 0.1, "sigmoid").eval()
    ids = torch.tensor([[1, 5, 2, 6, 2], [1, 7, 2, 8, 2], [1, 9, 2, 0, 0]])
    mask = (ids != 0).long()
    mnli, stsb = model(ids, torch.zeros_like(ids), mask, [("MNLI", 0, 2), ("STS-B", 2, 3)])
    assert mnli.shape == (2, 3) and stsb.shape == (1,) and 0 < stsb.item() < 1
    save_model(model, tmp_path / "model")
    loaded = build_model({"kind": "checkpoint", "path": str(tmp_path / "model")}, ["STS-B"], 0.1, "sigmoid").eval()
    (again,) = loaded(ids[2:], torch.zeros_like(ids[2:]), mask[2:], [("STS-B", 0, 1)])
    assert again.item() == pytest.approx(stsb.item(), abs=1e-6)


def test_init_errors(tmp_path):
    with pytest.raises(BamError, match=r"init: .*/nothing/config.json not found"):
        build_model({"kind": "config", "path": str(tmp_path / "nothing")}, ["RTE"], 0.1, "sigmoid")
    config = write_tiny_config(tmp_path / "enc")
    with pytest.raises(BamError, match=r"init: .*/enc has no model weights"):
        build_model({"kind": "pretrained", "path": str(config)}, ["RTE"], 0.1, "sigmoid")
    model = build_model({"kind": "config", "path": str(config)}, ["RTE"], 0.1, "linear")
    save_model(model, tmp_path / "model")
    with pytest.raises(BamError, match=r"init: task CoLA has no head in checkpoint .*model \(it has: RTE\)"):
        build_model({"kind": "checkpoint", "path": str(tmp_path / "model")}, ["CoLA"], 0.1, "sigmoid")


def test_length_groups_give_the_padded_batch_loss_and_gradient(tmp_path):
    config = write_tiny_config(tmp_path / "enc")
    torch.manual_seed(0)
    model = build_model({"kind": "config", "path": str(config)}, ["CoLA"], 0.0, "sigmoid").train()  # dropout 0
    short, long = [1, 5, 6, 2], [1, 7, 8, 9, 10, 11, 2]
    ids = torch.tensor([short + [0, 0, 0], long])
    mask = (ids != 0).long()
    labels = torch.tensor([1, 0])

    def loss_and_grad(outputs):
        model.zero_grad()
        loss = torch.nn.functional.cross_entropy(outputs[0], labels, reduction="sum")
        loss.backward()
        return loss.item(), torch.cat([p.grad.reshape(-1) for p in model.parameters() if p.grad is not None])

    padded = loss_and_grad(model(ids, torch.zeros_like(ids), mask, [("CoLA", 0, 2)]))
    # the long row first, each group padded to itself; restore puts rows back: batch row 0 is group row 1
    groups = [(torch.tensor([long]), torch.zeros(1, 7, dtype=torch.long), torch.ones(1, 7, dtype=torch.long)),
              (torch.tensor([short]), torch.zeros(1, 4, dtype=torch.long), torch.ones(1, 4, dtype=torch.long))]
    grouped = loss_and_grad(model.forward_groups(groups, torch.tensor([1, 0]), [("CoLA", 0, 2)]))
    assert grouped[0] == pytest.approx(padded[0], abs=1e-6)
    assert torch.allclose(grouped[1], padded[1], atol=1e-6, rtol=0)
    assert grouped[1].abs().max() > 1e-4  # a real gradient, not zeros
