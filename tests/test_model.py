"""The multi-task model: shared encoder, per-task heads, init kinds, save/load."""

import pytest
import torch
from tiny_data import write_tiny_config

from bam_core.errors import BamError
from bam_core.method.model import build_model, save_model

torch.set_num_threads(1)


def one_per_row(ids):
    """Encoder inputs with one example per row, padding (id 0) at the end: a plain padded batch."""
    real = ids != 0
    return {"input_ids": ids, "token_type_ids": torch.zeros_like(ids),
            "position_ids": torch.arange(ids.shape[1]).expand_as(ids),
            "attention_mask": (real[:, None, :, None] == real[:, None, None, :]),
            "cls_index": torch.arange(len(ids)) * ids.shape[1]}


def test_heads_on_their_rows_and_sigmoid_regression(tmp_path):
    config = write_tiny_config(tmp_path / "enc")
    torch.manual_seed(0)
    model = build_model({"kind": "config", "path": str(config)}, ["MNLI", "STS-B"], 0.1, "sigmoid").eval()
    ids = torch.tensor([[1, 5, 2, 6, 2], [1, 7, 2, 8, 2], [1, 9, 2, 0, 0]])
    mnli, stsb = model(**one_per_row(ids), slices=[("MNLI", 0, 2), ("STS-B", 2, 3)])
    assert mnli.shape == (2, 3) and stsb.shape == (1,) and 0 < stsb.item() < 1
    save_model(model, tmp_path / "model")
    loaded = build_model({"kind": "checkpoint", "path": str(tmp_path / "model")}, ["STS-B"], 0.1, "sigmoid").eval()
    (again,) = loaded(**one_per_row(ids[2:]), slices=[("STS-B", 0, 1)])
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


def test_packed_rows_give_the_padded_batch_loss_and_gradient(tmp_path):
    config = write_tiny_config(tmp_path / "enc")
    torch.manual_seed(0)
    model = build_model({"kind": "config", "path": str(config)}, ["CoLA"], 0.0, "sigmoid").train()  # dropout 0
    short, long = [1, 5, 6, 2], [1, 7, 8, 9, 10, 11, 2]
    labels = torch.tensor([1, 0])

    def loss_and_grad(outputs):
        model.zero_grad()
        loss = torch.nn.functional.cross_entropy(outputs[0], labels, reduction="sum")
        loss.backward()
        return loss.item(), torch.cat([p.grad.reshape(-1) for p in model.parameters() if p.grad is not None])

    # the encoder's own padding: 2D mask, one example per row
    ids = torch.tensor([short + [0, 0, 0], long])
    out = model.encoder(input_ids=ids, token_type_ids=torch.zeros_like(ids), attention_mask=(ids != 0).long())
    padded = loss_and_grad([model.heads["CoLA"](out.pooler_output)])
    # both in one row of 11: the long one at 0, the short one at 7, each seeing only itself
    seg = torch.tensor([[1] * 7 + [0] * 4])
    packed = loss_and_grad(model(input_ids=torch.tensor([long + short]), token_type_ids=torch.zeros(1, 11, dtype=torch.long),
                                 position_ids=torch.tensor([list(range(7)) + list(range(4))]),
                                 attention_mask=seg[:, None, :, None] == seg[:, None, None, :],
                                 cls_index=torch.tensor([7, 0]), slices=[("CoLA", 0, 2)]))
    assert packed[0] == pytest.approx(padded[0], abs=1e-5)
    assert torch.allclose(packed[1], padded[1], atol=1e-5, rtol=0)
    assert packed[1].abs().max() > 1e-4  # a real gradient, not zeros
