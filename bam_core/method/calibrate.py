"""Measure what training costs on this machine, without training a run:

    bam calibrate --spec-json '{...}' --out results/estimate/calibration/multi.json

One job per mode, on the resources its training jobs get. It pays the start-up a training job pays
(importing torch and transformers, reading the tokens, building the encoder), then, for every training
unit of the plan (a task set with its batch size, task sampling and doubling), times a few dozen
optimisation steps after warm-up on that unit's real batches, and the prediction passes (dev and test
predictions, the logits a teacher writes on train and dev) on a sample of each split. `bam estimate`
turns these rates and the plan's step counts into minutes per run.

Step time depends on the tokens a batch computes (packed rows x longest example), which differ a lot
between batches, so the timed steps are fitted as a + b * tokens and read off at the mean size of a whole
epoch of the unit's plan (known exactly without running it); 30 steps then give a steady figure.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import psutil
import torch

from bam_core.data.tasks import UNORDERED_TASKS
from bam_core.errors import BamError
from bam_core.io import write_json
from bam_core.method import checkpoint as ckpt
from bam_core.method.batches import TaskBatches, double_unordered, load_split, pack_rows
from bam_core.method.model import build_model, predict, save_model
from bam_core.method.optim import build_optimizer
from bam_core.method.spec import spec_from_dict
from bam_core.method.train import setup_device, training_step

log = logging.getLogger("bam.calibrate")
SPLITS = ("train", "dev", "test")
EVAL_SAMPLE = 2048  # rows of a split timed for prediction (a random sample: same length mix)
EPOCH_SAMPLE = 512  # batches of an epoch whose computed tokens give the mean a step is priced at
WARMUP_BATCHES = 4  # prediction batches run untimed before the timed samples


def _sync(device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter()


def _timed(make, device):
    """(what make() returns, seconds it took)."""
    t0 = _sync(device)
    out = make()
    return out, _sync(device) - t0


def load_task(rs, task: str) -> dict:
    return {s: load_split(rs.tokens_dir, task, s, rs.max_seq_length) for s in SPLITS}


def build(rs, tasks: list[str], device):
    """A fresh model and optimizer, as every trained unit builds them."""
    torch.manual_seed(0)
    model = build_model(rs.init, tasks, rs.dropout, rs.regression_head).to(device)
    return (model, *build_optimizer(model, rs, 10**6, 1.0))


def run_spec(spec: dict, tmp: Path):
    """The RunSpec calibration trains with: the experiment's encoder and execution settings."""
    keys = ("init", "tokens_dir", "device", "precision", "num_threads", "max_seq_length", "dropout",
            "regression_head", "loss_reduction")
    return spec_from_dict({"mode": spec["mode"], "tasks": spec["tasks"], **{k: spec[k] for k in keys},
                           "output_dir": str(tmp / "run"), "resume_dir": str(tmp / "resume")}, "calibration spec")


def computed_tokens(plan: TaskBatches, tasks: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Tokens computed for each batch given as (steps, batch) task and row indices: its packed rows x
    longest example, as collate packs them (without building the tensors)."""
    lengths = np.empty(tasks.shape, dtype=np.int64)
    for t, part in enumerate(plan.parts):
        sel = tasks == t
        lengths[sel] = part.lengths[rows[sel]]
    packed = (pack_rows(row) for row in lengths[:EPOCH_SAMPLE])
    return np.array([capacity * (int(rows.max()) + 1) for capacity, rows, _ in packed])


def fitted_step_seconds(seconds: np.ndarray, tokens: np.ndarray, epoch_tokens: float) -> float:
    """Seconds per step at the epoch's mean computed size, from a + b * tokens fitted on the timed steps."""
    if np.ptp(tokens) == 0:
        return float(seconds.mean())
    b, a = np.polyfit(tokens.astype(np.float64), seconds, 1)
    return float(max(a + b * epoch_tokens, seconds.min()))


def time_unit(unit: dict, data: dict, model, optimizer, scheduler, rs, device, autocast, warmup: int, steps: int):
    """(seconds per step, warm-up seconds) of one unit's batches."""
    parts = [data[t]["train"] for t in unit["tasks"]]
    if unit["double_unordered"]:
        parts = [double_unordered(p) if p.task.name in UNORDERED_TASKS else p for p in parts]
    plan = TaskBatches(parts, unit["batch_size"], 1, unit["sampling_exponent"], seed=0, batching=unit["batching"])
    pin = device.type == "cuda"
    times, tokens = [], []
    start = _sync(device)
    for step in range(warmup + steps):
        if step == warmup:
            warm = _sync(device) - start
        t0 = time.perf_counter()
        batch = plan.batch(step, pin=pin)
        tokens.append(batch.computed_tokens)
        training_step(model, optimizer, scheduler, batch.to(device, non_blocking=pin), 0.5, rs, autocast)
        times.append(_sync(device) - t0)
    epoch_tokens = computed_tokens(plan, *plan.epoch_plan(0)).mean()
    step_seconds = fitted_step_seconds(np.array(times[warmup:]), np.array(tokens[warmup:]), epoch_tokens)
    return step_seconds, warm


def random_rows(split, n: int, rng: np.random.Generator):
    """A random n rows of a loaded split (all of it when smaller), in their order: the same length mix."""
    rows = np.sort(rng.permutation(len(split))[:n])
    return replace(split, idx=split.idx[rows], starts=split.starts[rows], lengths=split.lengths[rows],
                   labels=split.labels[rows])


def eval_seconds_per_example(model, data: dict, task: str, eval_batch_size: int, device, autocast) -> dict:
    """Prediction seconds per example of each split, timed on a random sample of it, after a few batches of
    dev warm the model up (a whole dev split would cost minutes on a CPU for MNLI, QQP or QNLI)."""
    rng = np.random.default_rng(0)
    predict(model, random_rows(data[task]["dev"], WARMUP_BATCHES * eval_batch_size, rng), eval_batch_size,
            device, autocast)
    out = {}
    for split in SPLITS:
        sample = random_rows(data[task][split], EVAL_SAMPLE, rng)
        t0 = _sync(device)
        predict(model, sample, eval_batch_size, device, autocast)
        out[split] = (_sync(device) - t0) / max(len(sample.idx), 1)
    return out


def calibrate(spec: dict, startup: float) -> dict:
    """The measurements of one calibration spec (see `bam_core.reporting.estimate.calibration_spec`)."""
    with tempfile.TemporaryDirectory(prefix="bam-calibrate-") as tmp:
        tmp = Path(tmp)
        rs = run_spec(spec, tmp)
        device, autocast = setup_device(rs)
        # The first data load and model build also pay for lazy imports (pyarrow's parquet reader, the
        # model classes): a job pays that once, so it goes to start-up; the repeats give the steady cost.
        data, load_seconds, fingerprints = {}, {}, {}
        first = _timed(lambda: load_task(rs, spec["tasks"][0]), device)[1]
        for task in spec["tasks"]:
            data[task], load_seconds[task] = _timed(lambda: load_task(rs, task), device)
            fingerprints[task] = {s: data[task][s].fingerprint for s in SPLITS}
        first_use = max(0.0, first - load_seconds[spec["tasks"][0]])
        first = _timed(lambda: build(rs, spec["tasks"], device), device)[1]
        (model, optimizer, scheduler), build_seconds = _timed(lambda: build(rs, spec["tasks"], device), device)
        first_use += max(0.0, first - build_seconds)
        model.train()
        units, warmup_overheads = [], []
        for unit in spec["units"]:
            step_seconds, warm = time_unit(unit, data, model, optimizer, scheduler, rs, device, autocast,
                                           spec["warmup_steps"], spec["steps"])
            warmup_overheads.append(max(0.0, warm - spec["warmup_steps"] * step_seconds))
            units.append({**unit, "step_seconds": step_seconds})
            log.info("%s batch %d: %.4f s/step", "+".join(unit["tasks"]), unit["batch_size"], step_seconds)
        eval_rates = []
        for entry in spec["eval"]:
            rates = eval_seconds_per_example(model, data, entry["task"], entry["eval_batch_size"], device, autocast)
            eval_rates.append({**entry, "seconds_per_example": rates})
        t0 = time.perf_counter()
        ckpt.save_resume(tmp / "resume", {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                          "scheduler": scheduler.state_dict(), "rng": ckpt.rng_state()})
        checkpoint_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        save_model(model, tmp / "model")
        save_model_seconds = time.perf_counter() - t0
    return {
        "spec": spec,
        "fingerprints": fingerprints,
        "device": device.type,
        "gpu_name": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "startup_seconds": startup,
        "first_use_seconds": first_use,
        "load_seconds": load_seconds,
        "build_seconds": build_seconds,
        "warmup_seconds": warmup_overheads[0] if warmup_overheads else 0.0,
        "checkpoint_seconds": checkpoint_seconds,
        "save_model_seconds": save_model_seconds,
        "units": units,
        "eval": eval_rates,
    }


def main(argv: list[str]) -> int:
    # What a training job pays before its first line of work: the interpreter and the imports above.
    startup = time.time() - psutil.Process().create_time()
    parser = argparse.ArgumentParser(prog="bam calibrate", description=__doc__.splitlines()[0])
    parser.add_argument("--spec-json", required=True, help="the calibration spec, as the workflow passes it")
    parser.add_argument("--out", required=True, help="the measurements, JSON")
    args = parser.parse_args(argv)
    try:
        spec = json.loads(args.spec_json)
    except json.JSONDecodeError as err:
        raise BamError(f"--spec-json is not valid JSON: {err}") from None
    write_json(calibrate(spec, startup), args.out)
    return 0
