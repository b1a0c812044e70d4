"""Layer-wise learning rates and weight decay of a 2-layer BERT."""

import pytest
import torch
from tiny_data import write_tiny_config

from bam_core.method.model import build_model
from bam_core.method.optim import build_optimizer
from bam_core.method.spec import RunSpec

torch.set_num_threads(1)


def test_layerwise_lr_and_decay(tmp_path):
    config = write_tiny_config(tmp_path / "enc", layers=2)
    model = build_model({"kind": "config", "path": str(config)}, ["CoLA", "STS-B"], 0.1, "sigmoid")
    spec = RunSpec(lr=1e-4, layerwise_lr_decay=0.9, warmup_fraction=0.0)
    optimizer, scheduler = build_optimizer(model, spec, total_steps=10)
    lrs = {g["name"]: g["lr"] for g in optimizer.param_groups}
    expected = {"heads": 1.0, "pooler": 0.9, "layer.1": 0.81, "layer.0": 0.729, "embeddings": 0.6561}
    for name, factor in expected.items():
        assert lrs[name] == pytest.approx(1e-4 * factor)
        assert lrs[f"{name}/no_decay"] == pytest.approx(1e-4 * factor)
    assert len(lrs) == 10
    names = {id(p): n for n, p in model.named_parameters()}
    for group in optimizer.param_groups:
        for p in group["params"]:
            skip = names[id(p)].endswith("bias") or "LayerNorm" in names[id(p)]
            assert group["weight_decay"] == (0.0 if skip else 0.01), names[id(p)]
    assert sum(len(g["params"]) for g in optimizer.param_groups) == len(list(model.parameters()))
    assert optimizer.defaults["eps"] == 1e-6


def test_warmup_then_linear_decay(tmp_path):
    config = write_tiny_config(tmp_path / "enc")
    model = build_model({"kind": "config", "path": str(config)}, ["RTE"], 0.1, "sigmoid")
    optimizer, scheduler = build_optimizer(model, RunSpec(lr=1.0, warmup_fraction=0.1), total_steps=100)
    seen = []
    for _ in range(100):
        seen.append(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
    # 10 warm-up steps 0, 0.1, ..., 0.9, peak 1.0 at step 10, then (100 - s) / 90
    assert seen[0] == 0.0 and seen[5] == pytest.approx(0.5) and seen[10] == pytest.approx(1.0)
    assert seen[55] == pytest.approx(45 / 90) and seen[99] == pytest.approx(1 / 90)
