"""`bam estimate`: the bill of a config before any run, from `bam calibrate`'s measurements.

    bam estimate --config-json '{...}' --calibration results/estimate/calibration/*.json \
        --tokens-dir results/tokens/ENC --encoder-dir results/encoders/ENC --out-dir results/estimate

Each run's minutes are its start-up (imports, first use of the data reader and model classes,
reading its tokens) plus, per trained model, building
the encoder, its planned steps (`planned_steps`, the formula training uses) times the measured
seconds per step of its unit, prediction on train/dev/test, and its checkpoint writes. A calibration
counts only for the config it was made for: the same calibration spec (encoder, device, precision,
threads, sequence length, batching, resources) and the same data fingerprints; anything else is
ignored, here and when the workflow sizes SLURM time requests from it (`Estimate.runtime_minutes`).
Writes runs.tsv (variant, seed, group, steps, minutes, startup_minutes: the imports, before training
starts, which metrics.json's wall time leaves out) and summary.txt.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from bam_core.data.tasks import UNORDERED_TASKS
from bam_core.errors import BamError
from bam_core.experiment.cluster import runtime_from_estimate
from bam_core.experiment.schedule import makespan, run_dependencies
from bam_core.experiment.variants import Plan
from bam_core.io import read_json, write_text
from bam_core.method.sampling import planned_steps

SPLITS = ("train", "dev", "test")
MODES = ("single", "multi")


def run_units(spec: dict) -> list[dict]:
    """The models a run trains, as calibration units: one per task in single mode, one in multi mode."""
    groups = [[t] for t in spec["tasks"]] if spec["mode"] == "single" else [list(spec["tasks"])]
    return [{"tasks": tasks, "batch_size": spec["batch_size"], "batching": spec["batching"],
             # one task: no sampling; no unordered task: nothing to double (same batches either way)
             "sampling_exponent": spec["sampling_exponent"] if len(tasks) > 1 else 1.0,
             "double_unordered": spec["double_unordered"] and any(t in UNORDERED_TASKS for t in tasks)}
            for tasks in groups]


def calibration_spec(plan: Plan, mode: str, encoder_dir: str, tokens_dir: str) -> dict | None:
    """What `bam calibrate` measures for `mode`: every distinct unit of the plan's runs of that mode."""
    specs = [plan.spec_settings(v, plan.seeds[0], g, encoder_dir, tokens_dir)
             for v in plan.trained for g in plan.groups(v) if plan.variants[v].mode == mode]
    if not specs:
        return None
    units = {json.dumps(u, sort_keys=True) for s in specs for u in run_units(s)}
    evals = {json.dumps({"task": t, "eval_batch_size": s["eval_batch_size"]}, sort_keys=True)
             for s in specs for t in s["tasks"]}
    config, training = plan.config, plan.config["training"]
    pretrained = config["encoder"]["pretrained"]
    resources = plan.config["training"]["resources"][mode]
    return {
        "mode": mode,
        "encoder": config["encoder"],
        "init": {"kind": "pretrained", "path": pretrained} if pretrained else {"kind": "config", "path": encoder_dir},
        "tokens_dir": tokens_dir,
        "tasks": sorted({t for s in specs for t in s["tasks"]}),
        "max_seq_length": config["max_seq_length"],
        **{k: training[k] for k in ("device", "precision", "num_threads")},
        **{k: training[mode][k] for k in ("dropout", "regression_head", "loss_reduction")},
        "resources": {k: resources[k] for k in ("gpu", "cpus_per_task")},
        "units": [json.loads(u) for u in sorted(units)],
        "eval": [json.loads(e) for e in sorted(evals)],
        "warmup_steps": training["estimate"]["warmup_steps"],
        "steps": training["estimate"]["steps"],
    }


def split_sizes(tokens_dir: str, tasks) -> tuple[dict, dict] | None:
    """({task: {split: rows}}, {task: {split: fingerprint}}) from the tokens' parquet footers; None if absent."""
    sizes, fingerprints = {}, {}
    for task in tasks:
        for split in SPLITS:
            path = Path(tokens_dir) / task / f"{split}.parquet"
            if not path.exists():
                return None
            meta = pq.read_metadata(path)
            sizes.setdefault(task, {})[split] = meta.num_rows
            fingerprints.setdefault(task, {})[split] = (meta.metadata or {}).get(b"bam.fingerprint", b"").decode()
    return sizes, fingerprints


def job_seconds(spec: dict, calibration: dict, sizes: dict) -> dict | None:
    """{steps, startup, work} seconds of one run; None when the calibration lacks one of its units."""
    measured = {json.dumps({k: v for k, v in u.items() if k != "step_seconds"}, sort_keys=True): u["step_seconds"]
                for u in calibration["units"]}
    per_example = {(e["task"], e["eval_batch_size"]): e["seconds_per_example"] for e in calibration["eval"]}
    steps, work = 0, calibration["warmup_seconds"]
    for unit in run_units(spec):
        step_seconds = measured.get(json.dumps(unit, sort_keys=True))
        rates = [per_example.get((t, spec["eval_batch_size"])) for t in unit["tasks"]]
        if step_seconds is None or None in rates:
            return None
        train_sizes = [sizes[t]["train"] * (2 if unit["double_unordered"] and t in UNORDERED_TASKS else 1)
                       for t in unit["tasks"]]
        n = planned_steps(train_sizes, unit["batch_size"], spec["epochs"], spec["epoch"], spec["sampling_exponent"],
                          spec.get("min_steps", 0))
        steps += n
        work += calibration["build_seconds"] + n * step_seconds
        predicted = SPLITS if spec["predict_train"] else tuple(s for s in SPLITS if s != "train")
        work += sum(sizes[t][s] * r[s] for t, r in zip(unit["tasks"], rates) for s in predicted)
        if spec["predict_swapped"]:  # a teacher of doubling students also predicts the swapped pairs
            work += sum(sizes[t]["train"] * r["train"] for t, r in zip(unit["tasks"], rates) if t in UNORDERED_TASKS)
        # (checkpoint_minutes adds at most one save per that many minutes: under 1% at the default 30, left out)
        work += (n - 1) // spec["checkpoint_every"] * calibration["checkpoint_seconds"]
        work += calibration["save_model_seconds"] if spec["save_model"] else 0.0
    load = sum(calibration["load_seconds"][t] for t in spec["tasks"])
    startup = calibration["startup_seconds"] + calibration["first_use_seconds"] + load
    return {"steps": steps, "startup": startup, "work": work, "load": load}


class Estimate:
    """The calibrations that match the config, and the expected cost of each of its runs."""

    def __init__(self, plan: Plan, encoder_dir: str, tokens_dir: str, calibration_paths):
        self.plan, self.encoder_dir, self.tokens_dir = plan, encoder_dir, tokens_dir
        self.calibrations, self.stale = {}, []
        found = split_sizes(tokens_dir, plan.tasks)
        self.sizes = found[0] if found else {}
        for path in calibration_paths:
            if not Path(path).exists() or not found:
                continue
            calibration = read_json(path)
            mode = calibration.get("spec", {}).get("mode")
            wanted = calibration_spec(plan, mode, encoder_dir, tokens_dir) if mode in MODES else None
            current = {t: found[1][t] for t in calibration.get("fingerprints", {}) if t in found[1]}
            if wanted is not None and calibration["spec"] == wanted and calibration["fingerprints"] == current:
                self.calibrations[mode] = calibration
            else:
                self.stale.append(str(path))

    def run(self, vid: str, seed: int, group: str) -> dict | None:
        spec = {**self.plan.spec_settings(vid, seed, group, self.encoder_dir, self.tokens_dir),
                **self.plan.execution_settings()}
        calibration = self.calibrations.get(spec["mode"])
        return job_seconds(spec, calibration, self.sizes) if calibration else None

    def runtime_minutes(self, vid: str, seeds: list[int], group: str, safety_factor: float) -> int | None:
        """The SLURM time request of a job training (vid, seed, group) for each of `seeds`: expected work x
        safety factor + start-up, paid once per job; None without estimate."""
        costs = [self.run(vid, seed, group) for seed in seeds]
        if None in costs:
            return None
        return runtime_from_estimate(sum(c["work"] for c in costs), max(c["startup"] for c in costs), safety_factor)


def runs_table(estimate: Estimate) -> pd.DataFrame:
    plan = estimate.plan
    rows = []
    for run in plan.runs(plan.trained):
        cost = estimate.run(*run)
        if cost is None:
            raise BamError(f"no matching calibration for run {run[0]} seed {run[1]} group {run[2]} "
                           f"(calibrations: {', '.join(estimate.stale) or 'none'})")
        imports = estimate.calibrations[plan.variants[run[0]].mode]["startup_seconds"]
        startup = cost["startup"]
        if plan.seed_jobs == "per_variant" and run[1] != plan.seeds[0]:  # the job's process has started already
            startup, imports = cost["load"], 0.0
        rows.append((*run, cost["steps"], (startup + cost["work"]) / 60, imports / 60))
    return pd.DataFrame(rows, columns=["variant", "seed", "group", "steps", "minutes", "startup_minutes"])


def job_durations(plan: Plan, runs: pd.DataFrame) -> tuple[dict, dict]:
    """({job: minutes}, {job: the jobs it waits for}): a job is a run, or with `seed_jobs: per_variant`
    a (variant, group) whose seeds train one after another (`Plan.job_of`)."""
    durations, deps = {}, {}
    for r in runs.itertuples():
        run = (r.variant, int(r.seed), r.group)
        job = plan.job_of(run)
        durations[job] = durations.get(job, 0.0) + r.minutes
        deps.setdefault(job, {}).update(dict.fromkeys(plan.job_of(d) for d in run_dependencies(plan, run)))
    return durations, {j: list(d) for j, d in deps.items()}


def _duration(hours: float) -> str:
    if hours < 1:
        return f"{hours * 60:.1f} min"
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def summary(estimate: Estimate, runs: pd.DataFrame, parallel: list[int]) -> str:
    """Hours per variant and in all, wall time on N workers, the largest job."""
    calibration = next(iter(estimate.calibrations.values()))
    gpu = calibration["device"] == "cuda"
    unit = "GPU-hours" if gpu else "CPU job-hours"
    safety = estimate.plan.config["training"]["estimate"]["safety_factor"]
    spec = calibration["spec"]
    lines = [f"Estimate for {spec['encoder']['name']} on {calibration['gpu_name'] or 'CPU'} "
             f"({calibration['device']}, precision {spec['precision']}, max_seq_length {spec['max_seq_length']}): "
             f"{len(runs)} training runs", ""]
    per_variant = runs.groupby("variant", sort=False).agg(runs=("minutes", "size"), hours=("minutes", "sum"))
    width = max(len(v) for v in per_variant.index)
    lines.append(f"{'variant':<{width}}  {'runs':>5}  {unit:>13}")
    digits = 2 if runs["minutes"].sum() >= 600 else 3  # small plans: hours to the minute or so
    for variant, count, minutes in per_variant.itertuples():
        lines.append(f"{variant:<{width}}  {count:>5}  {minutes / 60:>13.{digits}f}")
    lines.append(f"{'total':<{width}}  {len(runs):>5}  {runs['minutes'].sum() / 60:>13.{digits}f}")
    durations, deps = job_durations(estimate.plan, runs)
    walls = [f"{n} {'GPU' if gpu else 'job'}{'s' if n > 1 else ''}: {_duration(makespan(durations, deps, n) / 60)}"
             for n in parallel]
    lines += ["", f"Wall time of the {len(durations)} training jobs (teachers and inits finish before their "
              "students): " + "; ".join(walls)]
    variant, seed, group = max(durations, key=durations.get)
    seeds = list(estimate.plan.seeds) if seed == "seeds" else [seed]
    asks = estimate.runtime_minutes(variant, seeds, group, safety)
    which = "every seed" if seed == "seeds" else f"seed {seed}"
    lines.append(f"Largest job: {variant} {which} group {group}, {durations[(variant, seed, group)]:.1f} min "
                 f"expected; asks SLURM for {asks} min (x{safety:g} + start-up)")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bam estimate", description=__doc__.splitlines()[0])
    parser.add_argument("--config-json", required=True, help="the validated config, as the workflow passes it")
    parser.add_argument("--calibration", nargs="+", required=True, help="bam calibrate's JSON, one per mode")
    parser.add_argument("--tokens-dir", required=True)
    parser.add_argument("--encoder-dir", required=True)
    parser.add_argument("--out-dir", required=True)
    args = parser.parse_args(argv)
    plan = Plan(json.loads(args.config_json))
    estimate = Estimate(plan, args.encoder_dir, args.tokens_dir, args.calibration)
    runs = runs_table(estimate)
    out = Path(args.out_dir)
    write_text(runs.to_csv(sep="\t", index=False, float_format="%.4f"), out / "runs.tsv")
    text = summary(estimate, runs, plan.config["training"]["estimate"]["parallel_jobs"])
    write_text(text, out / "summary.txt")
    print(text, end="")
    return 0


def expected_minutes(path) -> pd.DataFrame:
    """runs.tsv as written above, for the cost table."""
    runs = pd.read_csv(path, sep="\t", dtype={"variant": str, "seed": "int64", "group": str})
    missing = {"variant", "seed", "group", "minutes", "startup_minutes"} - set(runs.columns)
    if missing:
        raise BamError(f"{path}: column(s) {', '.join(sorted(missing))} missing")
    return runs
