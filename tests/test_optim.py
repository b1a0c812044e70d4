"""BERT's Adam and the two learning-rate schedules, with known answers worked out by hand."""

import io

import pytest
import torch
from tiny_data import write_tiny_config

from bam_core.method.model import build_model
from bam_core.method.optim import AdamWeightDecay, build_optimizer
from bam_core.method.spec import RunSpec

torch.set_num_threads(1)


def tiny_model(tmp_path, tasks=("RTE",), layers=2):
    config = write_tiny_config(tmp_path / "enc", layers=layers)
    return build_model({"kind": "config", "path": str(config)}, list(tasks), 0.1, "sigmoid")


def test_layerwise_lr_and_decay(tmp_path):
    model = tiny_model(tmp_path, ["CoLA", "STS-B"])
    spec = RunSpec(lr=1e-4, layerwise_lr_decay=0.9, warmup_fraction=0.0)
    optimizer, _ = build_optimizer(model, spec, total_steps=10)
    assert isinstance(optimizer, AdamWeightDecay)
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
    assert optimizer.defaults["eps"] == 1e-6 and optimizer.defaults["betas"] == (0.9, 0.999)
    legacy, _ = build_optimizer(model, RunSpec(adam_bias_correction=True), total_steps=10)
    assert isinstance(legacy, torch.optim.AdamW)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "foreach"])
def test_three_steps_of_the_reference_update(fused):
    # lr 0.1, b1 0.9, b2 0.999, eps 1e-6; w decays (0.01), b is excluded (a bias or LayerNorm weight).
    w = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    optimizer = AdamWeightDecay([{"params": [w], "weight_decay": 0.01}, {"params": [b], "weight_decay": 0.0}],
                                lr=0.1, betas=(0.9, 0.999), eps=1e-6, fused=fused)
    # step 1, w[0]: g 0.5, m = 0.1*0.5 = 0.05, v = 0.001*0.25 = 0.00025, sqrt(v) = 0.0158113883;
    #   update = 0.05 / 0.0158123883 + 0.01*1.0 = 3.1620777 + 0.01, w = 1 - 0.1*3.1720777 = 0.6827922.
    #   (With bias correction the step would be 0.1*(1 + 0.01): no correction makes it 3.1x larger.)
    # step 3, b: no gradient (an absent task's head) counts as 0, as in the reference: m and v decay
    #   and the update goes on: m = 0.9*(-0.022) = -0.0198, v = 0.999*1.9996e-4 = 1.99760e-4,
    #   b = 0.3393903 + 0.1*0.0198/(0.0141336+1e-6) = 0.4794716.
    grads_w = [[0.5, -1.0], [0.25, 0.5], [-1.0, 2.0]]
    grads_b = [[0.2], [-0.4], None]
    expected_w = [[0.682792232718, -1.681782233667], [0.285993572669, -1.566921286910],
                  [0.387856343942, -1.791741239758]]
    expected_b = [[0.183822226079], [0.339390275200], [0.479471572623]]
    for gw, gb, ew, eb in zip(grads_w, grads_b, expected_w, expected_b):
        w.grad = torch.tensor(gw, dtype=torch.float64)
        b.grad = None if gb is None else torch.tensor(gb, dtype=torch.float64)
        optimizer.step()
        assert w.tolist() == pytest.approx(ew, abs=1e-7)
        assert b.tolist() == pytest.approx(eb, abs=1e-7)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "foreach"])
def test_step_count_is_float32_under_a_float64_default(fused):
    """The fused kernels read the step-count tensor as float: it must not follow torch's default dtype."""
    w = torch.tensor([1.0, -2.0], dtype=torch.float32, requires_grad=True)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        optimizer = AdamWeightDecay([w], lr=0.1, weight_decay=0.01, fused=fused)
        w.grad = torch.tensor([0.5, -1.0], dtype=torch.float32)
        optimizer.step()
    finally:
        torch.set_default_dtype(previous)
    steps = optimizer._cache[0][2]
    assert {s.dtype for s in steps} == {torch.float32} and steps[0].item() == float("inf")
    # the same update as in float64 above (step 1 of w): the step count changed nothing else
    assert w.tolist() == pytest.approx([0.682792232718, -1.681782233667], abs=1e-6)


def lrs_at(schedule: str, steps: list[int], total: int = 100, tmp_path=None) -> dict[int, list[float]]:
    model = tiny_model(tmp_path)
    spec = RunSpec(lr=1.0, layerwise_lr_decay=0.5, warmup_fraction=0.1, lr_schedule=schedule)
    optimizer, scheduler = build_optimizer(model, spec, total_steps=total)
    seen = {}
    for t in range(total):
        if t in steps:
            seen[t] = [g["lr"] for g in optimizer.param_groups]  # the rate of the update at 0-based step t
        optimizer.step()
        scheduler.step()
    return seen


def test_reference_schedule(tmp_path):
    # T = 100, W = int(0.1 * 100) = 10: t/W while t < W, then 1 - t/T
    seen = lrs_at("reference", [0, 1, 9, 10, 99], tmp_path=tmp_path)
    assert [lrs[0] for lrs in seen.values()] == pytest.approx([0.0, 0.1, 0.9, 0.9, 0.01])
    # every group keeps its own layer-wise rate: embeddings at depth 2 + 2 = 4, lr * 0.5**4 = 1/16
    assert seen[10][-1] == pytest.approx(0.9 / 16) and seen[1][-1] == pytest.approx(0.1 / 16)


def test_warmup_linear_decay_schedule(tmp_path):
    # the same warm-up, then (T - t)/(T - W): 1.0 at t = W, 1/90 at t = 99
    seen = lrs_at("warmup_linear_decay", [0, 1, 9, 10, 99], tmp_path=tmp_path)
    assert [lrs[0] for lrs in seen.values()] == pytest.approx([0.0, 0.1, 0.9, 1.0, 1 / 90])
    assert seen[99][-1] == pytest.approx(1 / 90 / 16)


def random_steps(model, optimizer, scheduler, steps: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        for name, p in model.named_parameters():
            # the CoLA head has no gradient every other step, as when CoLA is absent from a batch
            absent = name.startswith("heads.CoLA") and scheduler.last_epoch % 2
            p.grad = None if absent else torch.randn(p.shape, generator=gen)
        optimizer.step()
        scheduler.step()


@pytest.mark.parametrize("bias_correction", [False, True])
def test_resumed_optimizer_equals_uninterrupted_bit_for_bit(tmp_path, bias_correction):
    spec = RunSpec(lr=1e-2, adam_bias_correction=bias_correction)
    torch.manual_seed(0)
    model = tiny_model(tmp_path, ["CoLA", "RTE"])
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer, scheduler = build_optimizer(model, spec, total_steps=10)
    random_steps(model, optimizer, scheduler, 4, seed=1)
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict()}, buffer)
    random_steps(model, optimizer, scheduler, 4, seed=2)

    buffer.seek(0)
    saved = torch.load(buffer, weights_only=False)
    resumed = tiny_model(tmp_path, ["CoLA", "RTE"])
    resumed.load_state_dict(initial)
    optimizer2, scheduler2 = build_optimizer(resumed, spec, total_steps=10)
    resumed.load_state_dict(saved["model"])
    optimizer2.load_state_dict(saved["optimizer"])
    scheduler2.load_state_dict(saved["scheduler"])
    random_steps(resumed, optimizer2, scheduler2, 4, seed=2)
    for (name, a), b in zip(model.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
