"""Train one run (single- or multi-task, with or without a teacher) from a run spec:

    bam train SPEC.json          (or --spec-json '{...}', as the workflow calls it)

Writes into spec.output_dir: predictions.parquet (dev + test), logits.parquet (dev; train too if the
run teaches, spec.predict_train, and MRPC/STS-B train swapped if spec.predict_swapped), history.parquet,
model/ (if save_model) and metrics.json LAST. Rerunning a killed or
preempted run resumes from spec.resume_dir; SIGTERM/SIGUSR1 save a checkpoint and exit 128 + signum.

Several specs (`--spec-json A B`, the workflow's `training.seed_jobs: per_variant`) are
trained one after another in one process, which pays torch's and transformers' start-up (~4 s) once.
Each finished run's results stay in its resume_dir until the last one is done, so a rerun of a killed
job retrains only the runs it had not finished.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import random
import resource
import shutil
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import torch
from tqdm import tqdm

from bam_core.data.tasks import UNORDERED_TASKS, get_task
from bam_core.errors import BamError
from bam_core.io import read_json, write_json, write_parquet
from bam_core.method import checkpoint as ckpt
from bam_core.method.annealing import teacher_annealing
from bam_core.method.batches import TaskBatches, double_unordered, load_split
from bam_core.method.losses import NonFiniteWatch, example_losses, reduce
from bam_core.method.metrics import task_score
from bam_core.method.model import build_model, predict, save_model
from bam_core.method.optim import build_optimizer
from bam_core.method.spec import RunSpec, fill_alpha, read_json_file, spec_from_dict
from bam_core.method.teachers import attach_teacher, logits_metadata, logits_table, swapped_pairs

# history.parquet: one row per logged step (pyarrow, not pandas: 0.5 s less start-up for every training job)
HISTORY = (("task", pa.large_string()), ("step", pa.int64()), ("lambda", pa.float64()), ("loss", pa.float64()),
           ("lr", pa.float64()))

log = logging.getLogger("bam.train")


def setup_device(spec: RunSpec):
    """(device, autocast context): bf16 autocast + TF32 on CUDA by default, fp32 on CPU."""
    if spec.device == "cuda" and not torch.cuda.is_available():
        raise BamError("device 'cuda' requested but no CUDA GPU is available")
    device = torch.device("cuda" if spec.device != "cpu" and torch.cuda.is_available() else "cpu")
    if spec.num_threads:
        torch.set_num_threads(spec.num_threads)
    bf16 = spec.precision == "bf16" or (spec.precision == "auto" and device.type == "cuda")
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    return device, autocast


def training_step(model, optimizer, scheduler, batch, lam: float, spec: RunSpec, autocast) -> torch.Tensor:
    """One optimisation step; returns the (B,) per-example losses (on device, no host sync)."""
    with autocast:
        outputs = model(**batch.encoder_inputs, slices=batch.slices)
    losses = example_losses(outputs, batch.labels, batch.slices, batch.teacher, lam)
    optimizer.zero_grad(set_to_none=True)
    reduce(losses, spec.loss_reduction).backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), spec.max_grad_norm)
    optimizer.step()
    scheduler.step()
    return losses.detach()


def load_data(spec: RunSpec) -> dict:
    """{split: {task: TaskData}}; teacher logits checked and attached to train before any training."""
    data = {s: {t: load_split(spec.tokens_dir, t, s, spec.max_seq_length) for t in spec.tasks}
            for s in ("train", "dev", "test")}
    for s in ("dev", "test"):  # evaluation sets are only predicted
        data[s].update({t: load_split(spec.tokens_dir, t, s, spec.max_seq_length) for t in spec.eval_tasks})
    if spec.teacher_logits:
        attach_teacher(spec.teacher_logits, list(data["train"].values()),
                       swapped_tasks=UNORDERED_TASKS if spec.double_unordered else ())
    return data


def train_unit(spec: RunSpec, tasks: list[str], data: dict, device, autocast, stop, state, finished,
               wall=lambda: 0.0) -> dict:
    """Train one model on `tasks` (all of them in multi mode, one in single mode) and evaluate it.
    wall: the run's wall seconds so far, kept in each checkpoint so that a resumed run's metrics count them."""
    parts = [data["train"][t] for t in tasks]
    if spec.double_unordered:
        parts = [double_unordered(p) if p.task.name in UNORDERED_TASKS else p for p in parts]
    plan = TaskBatches(parts, spec.batch_size, spec.epochs, spec.sampling_exponent, spec.seed, batching=spec.batching,
                       epoch=spec.epoch, min_steps=spec.min_steps)
    total = plan.total_steps
    torch.manual_seed(spec.seed)  # each unit starts from the seed: single mode = separate single runs
    model = build_model(spec.init, tasks, spec.dropout, spec.regression_head).to(device)
    optimizer, scheduler = build_optimizer(model, spec, total, spec.alpha(tasks[0]))
    random.seed(spec.seed)
    np.random.seed(spec.seed)
    step, history, counters = 0, [], {"examples": 0, "tokens": 0, "seconds": 0.0}
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        ckpt.set_rng_state(state["rng"])
        step, history, counters = state["step"], state["history"], state["counters"]
        log.info("resuming from step %d", step)
    model.train()
    log_every = max(1, total // 100)  # history.parquet: every 1%
    report_at = {math.ceil(k * total / 10) for k in range(1, 11)}  # job log without a terminal: every 10%
    window_loss = torch.zeros(2, device=device)  # loss sums since the last history row / the last report
    window_n = [0, 0]
    watch = NonFiniteWatch(tasks, device)
    pin = device.type == "cuda"

    def check_finite():  # a host sync: at log and checkpoint steps only
        if (bad := watch.first()) is not None:
            raise BamError(f"{spec.name}: non-finite loss (nan or inf) at step {bad[0]} in task {bad[1]}; "
                           f"the last good checkpoint is kept in {spec.resume_dir}")

    def save(at_step):
        check_finite()
        ckpt.save_resume(spec.resume_dir, {
            "spec": spec.to_dict(), "unit": tasks, "finished": finished, "step": at_step,
            "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(), "rng": ckpt.rng_state(), "history": history,
            "counters": counters, "wall": wall()})

    bar = tqdm(total=total, initial=step, desc="+".join(tasks), disable=None, dynamic_ncols=True)
    start = time.perf_counter()
    while step < total:
        batch = plan.batch(step, pin=pin).to(device, non_blocking=pin)
        lam = teacher_annealing(step, total, spec.annealing)
        lr = scheduler.get_last_lr()[0]  # group 0 = the heads (depth 0)
        losses = training_step(model, optimizer, scheduler, batch, lam, spec, autocast)
        window_loss += losses.sum()
        window_n = [n + len(losses) for n in window_n]
        watch.update(step, losses, batch.slices)
        counters["examples"] += len(losses)
        counters["tokens"] += batch.real_tokens
        step += 1
        bar.update(1)
        record, report = step % log_every == 0 or step == total, bar.disable and step in report_at
        if record or report:
            check_finite()
            sums = window_loss.tolist()
            seconds = counters["seconds"] + time.perf_counter() - start
            rate = counters["examples"] / seconds
        if record:
            mean_loss = sums[0] / window_n[0]
            history.append({"task": "+".join(tasks), "step": step, "lambda": lam, "loss": mean_loss, "lr": lr})
            window_loss[0], window_n[0] = 0.0, 0
            bar.set_postfix(loss=f"{mean_loss:.4f}", lam=f"{lam:.3f}", ex_s=f"{rate:.0f}")
        if report:
            left = tqdm.format_interval(seconds / step * (total - step))
            log.info("%s step %d/%d (%d%%) loss %.4f lambda %.3f %.0f ex/s, %s left", "+".join(tasks), step,
                     total, 100 * step // total, sums[1] / window_n[1], lam, rate, left)
            window_loss[1], window_n[1] = 0.0, 0
        due = step % spec.checkpoint_every == 0 or (  # `start`: the last save, or the loop's start
            spec.checkpoint_minutes is not None and time.perf_counter() - start >= 60 * spec.checkpoint_minutes)
        if stop.received or (due and step < total):
            counters["seconds"] += time.perf_counter() - start
            start = time.perf_counter()
            save(step)
            if stop.received:
                raise ckpt.Preempted(stop.received, step)
    bar.close()
    if device.type == "cuda":
        torch.cuda.synchronize()
    counters["seconds"] += time.perf_counter() - start
    return evaluate(spec, model, tasks, data, device, autocast, history, counters, total)


def split_predictions(task, split: str, d, out: np.ndarray, predictions: list, scores: dict) -> None:
    """Append one split's predictions (original label scale); a dev split with labels is scored."""
    if task.is_regression:
        pred, label = task.from_unit(out[:, 0]), task.from_unit(d.labels)
    else:
        pred, label = out.argmax(-1).astype(np.float64), d.labels
    label = label if split == "dev" else np.full(len(d), np.nan)
    predictions.append(pa.table({"task": pa.array([task.name] * len(d), pa.large_string()),
                                 "split": pa.array([split] * len(d), pa.large_string()), "idx": pa.array(d.idx, pa.int64()),
                                 "prediction": pa.array(pred, pa.float64()),
                                 "label": pa.array(label, pa.float64(), from_pandas=True)}))  # NaN: null
    if split == "dev" and len(d):
        scores[task.name] = {"metric": task.metric, "score": task_score(task, pred, label), "n_dev": len(d)}


def evaluate(spec, model, tasks, data, device, autocast, history, counters, steps) -> dict:
    """Dev scores, dev/test predictions, dev logits of a trained unit (train logits only if it teaches),
    and predictions on the evaluation sets of its tasks (MNLI-mm, AX) by their head: the leaderboard wants those too."""
    predictions, logits, scores = [], [], {}
    splits = ("train", "dev", "test") if spec.predict_train else ("dev", "test")
    for name in tasks:
        task = get_task(name)
        outputs = {s: predict(model, data[s][name], spec.eval_batch_size, device, autocast) for s in splits}
        for split in ("dev", "test"):
            split_predictions(task, split, data[split][name], outputs[split], predictions, scores)
        logits += [(name, s, data[s][name].idx, outputs[s]) for s in ("train", "dev") if s in outputs]
        if spec.predict_swapped and name in UNORDERED_TASKS:  # the reference's teacher sees each swapped copy
            swapped = predict(model, swapped_pairs(data["train"][name]), spec.eval_batch_size, device, autocast)
            logits.append((name, "train", data["train"][name].idx, swapped, True))
    for name in spec.eval_tasks:
        task = get_task(name)
        if task.head not in tasks:
            continue
        for split in ("dev", "test"):
            d = data[split][name]
            if not len(d):  # AX has no dev split
                continue
            out = predict(model, replace(d, task=get_task(task.head)), spec.eval_batch_size, device, autocast)
            split_predictions(task, split, d, out, predictions, scores)
    if spec.save_model:
        save_model(model, Path(spec.resume_dir) / "models" / "+".join(tasks))
    return {"predictions": pa.concat_tables(predictions), "logits": logits, "scores": scores,
            "history": history, "counters": counters, "steps": steps}


def peak_memory_mb(device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def write_outputs(spec: RunSpec, data: dict, results: dict, device, wall: float) -> dict:
    out = Path(spec.output_dir)
    units = list(results)
    predictions = pa.concat_tables([r["predictions"] for r in results.values()])
    write_parquet(predictions, out / "predictions.parquet")
    fingerprints = {t: {s: data[s][t].fingerprint for s in ("train", "dev")} for t in spec.tasks}
    table = logits_table([row for r in results.values() for row in r["logits"]])
    write_parquet(table, out / "logits.parquet", logits_metadata(fingerprints, [str(out)]))
    rows = [h for r in results.values() for h in r["history"]]
    history = pa.table({name: pa.array([h[name] for h in rows], kind) for name, kind in HISTORY})
    write_parquet(history, out / "history.parquet")
    if spec.save_model:
        for unit in units:
            target = out / "model" if len(units) == 1 else out / "model" / unit
            tmp = target.with_name(f".{target.name}.tmp")  # copy, then rename: never a half-copied model/
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(Path(spec.resume_dir) / "models" / unit, tmp)
            shutil.rmtree(target, ignore_errors=True)
            tmp.rename(target)
    scores = {t: s for r in results.values() for t, s in r["scores"].items()}
    in_avg = [s["score"] for t, s in scores.items() if get_task(t).in_average]
    counters = {k: sum(r["counters"][k] for r in results.values()) for k in ("examples", "tokens", "seconds")}
    metrics = {
        "spec": spec.to_dict(), "tasks": scores, "average": float(np.mean(in_avg)) if in_avg else None,
        "wall_seconds": wall, "train_examples": counters["examples"],
        "examples_per_second": counters["examples"] / max(counters["seconds"], 1e-9),
        "tokens_per_second": counters["tokens"] / max(counters["seconds"], 1e-9),
        "peak_memory_mb": peak_memory_mb(device), "device": device.type,
        "gpu_name": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "steps": sum(r["steps"] for r in results.values()),
    }
    write_json(metrics, out / "metrics.json")  # last: its presence means the run is complete
    return metrics


def train(spec: RunSpec, keep_resume: bool = False) -> dict:
    """Run the spec to completion (resuming if a checkpoint exists); returns metrics.json's content.
    keep_resume: leave the finished results in resume_dir (the caller clears it once its other runs are done)."""
    start = time.perf_counter()
    device, autocast = setup_device(spec)
    data = load_data(spec)
    state = ckpt.load_resume(spec.resume_dir, spec.to_dict())
    finished = state["finished"] if state else {}
    earlier_wall = state.get("wall", 0.0) if state else 0.0  # a resumed run's earlier attempts, to their checkpoint

    def wall():
        return earlier_wall + time.perf_counter() - start

    units = [[t] for t in spec.tasks] if spec.mode == "single" else [list(spec.tasks)]
    with ckpt.StopSignals() as stop:
        for i, unit in enumerate(units):
            key = "+".join(unit)
            if key in finished:
                continue
            unit_state = state if state and state["unit"] == unit else None
            finished[key] = train_unit(spec, unit, data, device, autocast, stop, unit_state, finished, wall)
            if i + 1 < len(units) or keep_resume:  # remember finished units across preemption
                ckpt.save_resume(spec.resume_dir, {"spec": spec.to_dict(), "unit": None, "finished": finished,
                                                   "wall": wall()})
    metrics = write_outputs(spec, data, finished, device, wall())
    if not keep_resume:
        ckpt.clear_resume(spec.resume_dir)
    log.info("%s: done, average %s, %.1f s", spec.name, metrics["average"], metrics["wall_seconds"])
    return metrics


def train_all(specs: list[RunSpec]) -> None:
    """Train the specs one after another; their finished results are kept until all of them are done."""
    several = len(specs) > 1
    for spec in specs:
        train(spec, keep_resume=several)
    if several:
        for spec in specs:
            ckpt.clear_resume(spec.resume_dir)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bam train", description="train runs from run specs, one after another")
    parser.add_argument("spec", nargs="*", help="run spec JSON file(s) (see bam_core/method/spec.py)")
    parser.add_argument("--spec-json", nargs="+", action="extend", default=[],
                        help="run specs themselves, as the workflow passes them")
    parser.add_argument("--alpha-choice", help="results/alpha_choice.json: Single's per-task alpha for these runs")
    parser.add_argument("--checkpoint-every", type=int, help="steps between resume checkpoints (overrides the specs)")
    parser.add_argument("--checkpoint-minutes", type=float,
                        help="also checkpoint when this many minutes passed since the last one, 0: steps only")
    parser.add_argument("--num-threads", type=int, help="torch CPU threads, 0: torch's default (overrides the specs)")
    args = parser.parse_args(argv)
    if bool(args.spec) == bool(args.spec_json):
        parser.error("give run spec files or --spec-json, not both and not neither")
    raws = []
    for i, text in enumerate(args.spec_json):
        try:
            raws.append((json.loads(text), f"--spec-json #{i + 1}"))
        except json.JSONDecodeError as err:
            raise BamError(f"--spec-json #{i + 1} is not valid JSON: {err}") from None
    raws += [(read_json_file(path), path) for path in args.spec]
    choice = read_json(args.alpha_choice)["choice"] if args.alpha_choice else None
    execution = {}  # spec.EXECUTION_KEYS, which the workflow passes outside the specs
    if args.checkpoint_every is not None:
        execution["checkpoint_every"] = args.checkpoint_every
    if args.checkpoint_minutes is not None:
        execution["checkpoint_minutes"] = args.checkpoint_minutes or None
    if args.num_threads is not None:
        execution["num_threads"] = args.num_threads or None
    specs = [spec_from_dict({**(fill_alpha(raw, choice) if choice else raw), **execution}, source=source)
             for raw, source in raws]
    outputs = [s.output_dir for s in specs]
    if len(set(outputs)) < len(outputs):
        raise BamError("two run specs write to the same output_dir")
    try:
        train_all(specs)
    except ckpt.Preempted as stop:
        log.info("%s", stop)
        return 128 + stop.signum
    return 0
