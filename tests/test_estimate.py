"""The cost estimate: runs priced from a calibration, keyed to its config, and SLURM time requests
sized from it in a dry run. Calibrations here are written by hand, so every expected number is too."""

import re

import pandas as pd
import pytest
import yaml

from bam_core.experiment.cluster import runtime_for, runtime_from_estimate
from bam_core.experiment.schedule import makespan, run_dependencies
from bam_core.io import write_json
from bam_core.method.sampling import planned_steps
from bam_core.reporting import cost
from bam_core.reporting.estimate import (Estimate, calibration_spec, job_durations, run_units, runs_table,
                                         split_sizes)
from tests.test_config import plan_of
from tests.tiny_data import write_tiny_tokens
from tests.workspace import REPO, make_workspace, snakemake

MINI = yaml.safe_load((REPO / "tests/configs/mini.yaml").read_text())
ENCODER, TOKENS = "results/encoders/demo-mini", "results/tokens/demo-mini"
# tiny_data sizes: STS-B 200, MNLI 800, RTE 100 training rows; dev 120 and test 40 each


def test_planned_steps():
    assert planned_steps([100, 50], 32, 3) == 15  # ceil(450 / 32 = 14.06)
    assert planned_steps([64], 32, 1) == 2
    assert planned_steps([10], 32, 0.01) == 1  # never zero
    # min_steps: a small task's epochs rise to reach it; a large task's epochs already exceed it
    assert planned_steps([300], 16, 3, min_steps=150) == 150  # 19 batches x 3 = 57 < 150
    assert planned_steps([1964], 16, 3, min_steps=150) == 369  # 123 x 3


def test_units_of_a_run():
    spec = {"mode": "single", "tasks": ["CoLA", "MRPC"], "batch_size": 32, "sampling_exponent": 0.75, "batching": "mixed",
            "double_unordered": True}
    assert run_units(spec) == [
        {"tasks": ["CoLA"], "batch_size": 32, "batching": "mixed", "sampling_exponent": 1.0, "double_unordered": False},
        {"tasks": ["MRPC"], "batch_size": 32, "batching": "mixed", "sampling_exponent": 1.0, "double_unordered": True},
    ]
    assert run_units(dict(spec, mode="multi")) == [
        {"tasks": ["CoLA", "MRPC"], "batch_size": 32, "batching": "mixed", "sampling_exponent": 0.75, "double_unordered": True}]


def _calibration(spec, fingerprints, step_seconds):
    """Hand-made measurements: start-up 10 s (8 s imports, 2 s first use), 1 s to read each task, 2 s per build, warm-up 3 s,
    checkpoint 5 s, saving a model 60 s, 0.01 s to predict any example."""
    return {"spec": spec, "fingerprints": fingerprints, "device": "cuda", "gpu_name": "Test GPU",
            "startup_seconds": 8.0, "first_use_seconds": 2.0, "load_seconds": {t: 1.0 for t in spec["tasks"]}, "build_seconds": 2.0,
            "warmup_seconds": 3.0, "checkpoint_seconds": 5.0, "save_model_seconds": 60.0,
            "units": [dict(u, step_seconds=step_seconds) for u in spec["units"]],
            "eval": [dict(e, seconds_per_example={"train": 0.01, "dev": 0.01, "test": 0.01}) for e in spec["eval"]]}


def write_calibrations(root, config, multi_step=10.0, single_step=1.0):
    plan = plan_of(config)
    tokens = root / TOKENS
    fingerprints = split_sizes(tokens, plan.tasks)[1]
    for mode, step in (("multi", multi_step), ("single", single_step)):
        spec = calibration_spec(plan, mode, ENCODER, TOKENS)
        write_json(_calibration(spec, {t: fingerprints[t] for t in spec["tasks"]}, step),
                   root / f"results/estimate/calibration/{mode}.json")
    return plan


def test_job_seconds_by_hand(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_tiny_tokens(tmp_path / TOKENS, tasks=("STS-B", "MNLI", "RTE"))
    plan = write_calibrations(tmp_path, MINI)
    estimate = Estimate(plan, ENCODER, TOKENS, [f"results/estimate/calibration/{m}.json" for m in ("single", "multi")])
    assert set(estimate.calibrations) == {"single", "multi"} and not estimate.stale
    # multi: the reference's epoch, copies from |D|^0.75 with MNLI (800) at one copy: STS-B 200 x
    # round(0.01 + 800 * (200/800)^0.75 / 200 = 1.41) = 1, RTE 100 x round(1.68) = 2: 1200 rows / 64 = 19
    # steps x 10 s; predicting 360 + 960 + 260 rows x 0.01 s; no checkpoint (18 // 50); warm-up 3 + build 2;
    # multi teaches multi-ft by init, so it saves its model (60 s)
    assert estimate.run("multi", 0, "all") == pytest.approx({"steps": 19, "startup": 13.0, "load": 3.0,
                                                             "work": 3 + 2 + 190 + 15.8 + 60})
    # one job trains STS-B, MNLI, RTE one after another: 7 + 25 + 4 steps x 1 s, three builds
    assert estimate.run("single.alpha0.9", 1, "all") == pytest.approx({"steps": 36, "startup": 13.0, "load": 3.0,
                                                                       "work": 3 + 6 + 36 + 15.8})
    # SLURM asks for work x 1.5 + start-up: (260.8 * 1.5 + 13) / 60 = 6.7 -> 7 minutes
    assert estimate.runtime_minutes("multi", [0], "all", 1.5) == 7
    assert estimate.runtime_minutes("multi-multi", [0], "all", 1.5) == 6  # no model saved: 5.2 -> 6
    # one job for both seeds (seed_jobs: per_variant) pays start-up once: (2 * 199.8 * 1.5 + 13) / 60 = 10.2 -> 11
    assert estimate.runtime_minutes("multi-multi", [0, 1], "all", 1.5) == 11


def test_one_job_per_variant_pays_start_up_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_tiny_tokens(tmp_path / TOKENS, tasks=("STS-B", "MNLI", "RTE"))
    write_calibrations(tmp_path, MINI)
    plan = plan_of(dict(MINI, training=dict(MINI["training"], seed_jobs="per_variant")))
    estimate = Estimate(plan, ENCODER, TOKENS, [f"results/estimate/calibration/{m}.json" for m in ("single", "multi")])
    runs = runs_table(estimate).set_index(["variant", "seed"])
    # multi-multi: 199.8 s of work a seed; seed 0 starts the process (13 s), seed 1 only reads its tokens (3 s)
    assert runs.loc[("multi-multi", 0), "minutes"] == pytest.approx((13 + 199.8) / 60)
    assert runs.loc[("multi-multi", 1), "minutes"] == pytest.approx((3 + 199.8) / 60)
    assert runs.loc[("multi-multi", 1), "startup_minutes"] == 0.0
    durations, deps = job_durations(plan, runs.reset_index())
    assert durations[("multi-multi", "seeds", "all")] == pytest.approx((13 + 3 + 2 * 199.8) / 60)
    assert deps[("multi-multi", "seeds", "all")] == [("multi", "seeds", "all")]


def test_a_calibration_of_other_data_or_settings_is_not_used(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_tiny_tokens(tmp_path / TOKENS, tasks=("STS-B", "MNLI", "RTE"))
    plan = write_calibrations(tmp_path, MINI)
    paths = [f"results/estimate/calibration/{m}.json" for m in ("single", "multi")]
    bigger = dict(MINI, training=dict(MINI["training"], multi=dict(MINI["training"]["multi"], batch_size=128)))
    other = Estimate(plan_of(bigger), ENCODER, TOKENS, paths)
    assert set(other.calibrations) == {"single"} and other.stale == [paths[1]]
    assert other.runtime_minutes("multi", [0], "all", 1.5) is None
    write_tiny_tokens(tmp_path / TOKENS, tasks=("STS-B", "MNLI", "RTE"), seed=1)  # other data
    assert Estimate(plan, ENCODER, TOKENS, paths).calibrations == {}


def test_runtime_from_estimate_and_retries():
    assert runtime_from_estimate(600, 30, 1.5) == 16  # (900 + 30) / 60 = 15.5
    assert runtime_from_estimate(1, 1, 1.5) == 1
    assert runtime_for(2, 16) == 32


def test_dependencies_of_students_and_finetuned_runs():
    plan = plan_of(MINI)
    grid = [("single.alpha1", 0, "all"), ("single.alpha1", 1, "all"),
            ("single.alpha0.9", 0, "all"), ("single.alpha0.9", 1, "all")]
    assert sorted(run_dependencies(plan, ("single-multi", 1, "all"))) == sorted(grid)  # alpha choice: all seeds
    assert run_dependencies(plan, ("multi-multi", 1, "all")) == [("multi", 0, "all")]  # teacher_seed: first
    # fine-tuning starts from the multi run of its seed, with Single's alpha (the grid again)
    assert sorted(run_dependencies(plan, ("multi-ft", 1, "all"))) == sorted([("multi", 1, "all")] + grid)
    assert run_dependencies(plan, ("multi", 1, "all")) == []


def test_makespan_by_hand():
    durations = {"a": 2.0, "b": 4.0, "c": 5.0}
    deps = {"c": ["a"]}
    assert makespan(durations, deps, 1) == 11.0
    assert makespan(durations, deps, 2) == 7.0  # a then c on one worker, b beside them
    assert makespan(durations, deps, 8) == 7.0


def test_cost_table_with_estimate(tmp_path):
    paths = []
    for variant, seed, wall in (("single", 0, 1800.0), ("single", 1, 1800.0), ("multi", 0, 7200.0)):
        path = tmp_path / "runs" / variant / str(seed) / "all" / "metrics.json"
        write_json({"device": "cuda", "wall_seconds": wall, "examples_per_second": 10.0}, path)
        paths.append(str(path))
    runs = tmp_path / "runs.tsv"
    runs.write_text("variant\tseed\tgroup\tsteps\tminutes\tstartup_minutes\n"
                    "single\t0\tall\t10\t25.5\t0.5\nsingle\t1\tall\t10\t40.5\t0.5\nsingle\t2\tall\t10\t99\t0.5\n"
                    "multi\t0\tall\t10\t100.5\t0.5\n")
    assert cost.main(["--metrics", *paths, "--estimate", str(runs), "--out-dir", str(tmp_path / "tables")]) == 0
    table = pd.read_parquet(tmp_path / "tables" / "cost.parquet")
    assert table["variant"].tolist() == ["multi", "single"]
    assert table["estimated_hours"].tolist() == pytest.approx([100 / 60, (25 + 40) / 60])  # seed 2 did not run
    assert "multi & 1 & 2.000 & 1.667 & 2.000 & 10.0 \\\\" in (tmp_path / "tables" / "cost.tex").read_text()


def planned_train_runtimes(root) -> dict[tuple[str, str, str], int]:
    """(variant, seed, group) -> the runtime resource of each train job in a dry run."""
    out = snakemake(root, "-n")
    assert out.returncode == 0, out.stdout + out.stderr
    runtimes = {}
    for block in out.stdout.split("\nrule ")[1:]:
        if block.startswith("train:"):
            wildcards = dict(re.findall(r"(\w+)=([^,\s]+)", re.search(r"wildcards: (.*)", block).group(1)))
            runtime = int(re.search(r"resources: .*runtime=(\d+)", block).group(1))
            runtimes[(wildcards["variant"], wildcards["seed"], wildcards["group"])] = runtime
    return runtimes


def test_dry_run_sizes_train_jobs_from_the_estimate(tmp_path):
    root = make_workspace(tmp_path, config="tests/configs/mini.yaml")
    assert set(planned_train_runtimes(root).values()) == {60}  # no estimate: the schema's fixed figure
    write_tiny_tokens(root / TOKENS, tasks=("STS-B", "MNLI", "RTE"))
    write_calibrations(root, MINI)
    runtimes = planned_train_runtimes(root)
    assert len(runtimes) == 14  # 7 trained variants x 2 seeds
    assert runtimes[("multi", "0", "all")] == 7 and runtimes[("multi-multi", "1", "all")] == 6
    assert runtimes[("single-ensemble-multi", "1", "all")] == 6  # a student like Multi->Multi
    assert runtimes[("single.alpha1", "0", "all")] == 2  # (60.8 * 1.5 + 13) / 60 = 1.7
