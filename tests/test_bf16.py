"""bf16 autocast on CPU (`precision: bf16`): training steps agree with fp32 within bf16's rounding, and an
attention mask that would make NaNs or a dtype clash inside attention is refused by name."""

import contextlib

import numpy as np
import pandas as pd
import pytest
import torch
from tiny_data import tiny_spec

from bam_core.errors import BamError
from bam_core.method.batches import TaskBatches, load_split
from bam_core.method.model import build_model
from bam_core.method.optim import build_optimizer
from bam_core.method.spec import spec_from_dict
from bam_core.method.train import setup_device, train, training_step

torch.set_num_threads(1)

STEPS = 8
# Under bf16 autocast the encoder's matrix products keep 8 significant bits (a rounding of up to 2^-9 = 0.2%);
# the pooler, heads and loss stay float32 (model.heads_on says why). A batch loss then moves only by the
# encoder's rounding seen through the heads: measured here at most 1.2e-6 relative over 8 steps. 1e-4 leaves
# that 80x room and still fails heads computed in bf16 (5e-4 measured), as well as any wrong computation
# (another batch's loss, or weights that did not update, are off by tens of percent).
LOSS_RTOL = 1e-4


def losses_of(tmp_path, precision: str) -> list[float]:
    """Batch losses of STEPS training steps of `bam train`'s multi-task step, dropout off, fixed seed."""
    spec = spec_from_dict(tiny_spec(tmp_path, precision=precision, dropout=0.0, lr=1e-3))
    device, autocast = setup_device(spec)
    assert (autocast.fast_dtype == torch.bfloat16) if precision == "bf16" else isinstance(
        autocast, contextlib.nullcontext)
    parts = [load_split(spec.tokens_dir, t, "train", spec.max_seq_length) for t in spec.tasks]
    plan = TaskBatches(parts, spec.batch_size, spec.epochs, spec.sampling_exponent, spec.seed)
    torch.manual_seed(0)
    model = build_model(spec.init, spec.tasks, spec.dropout, spec.regression_head).train()
    optimizer, scheduler = build_optimizer(model, spec, plan.total_steps)
    return [float(training_step(model, optimizer, scheduler, plan.batch(step), 1.0, spec, autocast).sum())
            for step in range(STEPS)]


def test_bf16_steps_agree_with_fp32(tmp_path):
    fp32, bf16 = losses_of(tmp_path, "fp32"), losses_of(tmp_path, "bf16")
    assert bf16 == pytest.approx(fp32, rel=LOSS_RTOL)
    assert bf16 != fp32  # autocast did compute in bf16: the two are not the same numbers


def test_a_bf16_run_learns_and_predicts_as_the_fp32_run_does(tmp_path):
    """`bam train` end to end under bf16: its learning curve is the fp32 run's within the tolerance above, and
    its predictions keep float32's resolution (a regression head in bf16 gave all 120 STS-B rows one value)."""
    runs = {p: train(spec_from_dict(tiny_spec(tmp_path / p, precision=p, tasks=["STS-B", "RTE"])))
            for p in ("fp32", "bf16")}
    assert runs["bf16"]["spec"]["precision"] == "bf16"
    assert runs["bf16"]["steps"] == runs["fp32"]["steps"] == 19  # ceil((200 + 100) / 16): one copy of each task
    curves = {p: pd.read_parquet(tmp_path / p / "run" / "history.parquet")["loss"].to_numpy() for p in runs}
    assert np.isfinite(curves["bf16"]).all()
    assert curves["bf16"] == pytest.approx(curves["fp32"], rel=10 * LOSS_RTOL)  # 19 steps: room for drift
    predictions = pd.read_parquet(tmp_path / "bf16" / "run" / "predictions.parquet")
    stsb = predictions[(predictions.task == "STS-B") & (predictions.split == "dev")]["prediction"]
    assert stsb.nunique() == len(stsb) == 120
    assert all(np.isfinite(t["score"]) for t in runs["bf16"]["tasks"].values())


def packed_inputs():
    """Two examples packed in one row of 7 tokens (a 4-token one at 0, a 3-token one at 4)."""
    segment = torch.tensor([[0, 0, 0, 0, 1, 1, 1]])
    return {"input_ids": torch.tensor([[1, 20, 21, 2, 1, 22, 2]]), "token_type_ids": torch.zeros(1, 7, dtype=torch.long),
            "position_ids": torch.tensor([[0, 1, 2, 3, 0, 1, 2]]),
            "attention_mask": segment[:, None, :, None] == segment[:, None, None, :],
            "cls_index": torch.tensor([0, 4])}


@pytest.fixture
def model(tmp_path):
    spec = tiny_spec(tmp_path)
    torch.manual_seed(0)
    return build_model(spec["init"], ["CoLA"], 0.0, "sigmoid").eval()


def test_the_packed_bool_mask_passes(model):
    with torch.autocast("cpu", dtype=torch.bfloat16):
        (out,) = model(**packed_inputs(), slices=[("CoLA", 0, 2)])
    assert out.shape == (2, 2) and torch.isfinite(out).all()


def test_a_nan_in_a_float_mask_is_refused_by_name(model):
    inputs = packed_inputs()
    additive = torch.zeros(1, 1, 7, 7).masked_fill(~inputs["attention_mask"], float("-inf"))
    additive[0, 0, 2, 3] = float("nan")  # otherwise silent: every output that reads token 2 becomes NaN
    with pytest.raises(BamError) as info:
        model(**dict(inputs, attention_mask=additive), slices=[("CoLA", 0, 2)])
    assert str(info.value) == ("attention mask: expected the packed batch's bool mask of shape (1, 1, 7, 7), "
                               "got float32 of shape (1, 1, 7, 7) holding 1 NaN")


def test_a_float32_mask_under_bf16_autocast_is_refused_by_name(model):
    inputs = packed_inputs()
    additive = torch.zeros(1, 1, 7, 7).masked_fill(~inputs["attention_mask"], -1e4)
    with torch.autocast("cpu", dtype=torch.bfloat16), pytest.raises(BamError) as info:
        model(**dict(inputs, attention_mask=additive), slices=[("CoLA", 0, 2)])
    assert str(info.value) == ("attention mask: expected the packed batch's bool mask of shape (1, 1, 7, 7), "
                               "got float32 of shape (1, 1, 7, 7)")
    with pytest.raises(BamError, match=r"got bool of shape \(1, 7\)$"):  # a padding mask, not the packed one
        model(**dict(inputs, attention_mask=torch.ones(1, 7, dtype=torch.bool)), slices=[("CoLA", 0, 2)])
