"""`snakemake estimate` end to end on the reduced demo: the calibration jobs really run, runs.tsv and
summary.txt hold the plan's runs, the next dry run sizes each training job from them, and a change of device
or sequence length turns the estimate stale (a note, and the fixed runtimes again)."""

import math

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from bam_core.io import read_json
from bam_core.method.sampling import planned_steps
from tests.test_estimate import planned_train_runtimes
from tests.workspace import REPO, make_workspace, snakemake, write_config

MINI = yaml.safe_load((REPO / "tests/configs/mini.yaml").read_text())
TOKENS = "results/tokens/demo-mini"
# A short calibration (a fitted line needs two timed steps), and a safety factor that makes the estimated
# time requests differ from run to run and from the fixed 60 minutes, however fast this machine is.
ESTIMATE = {"training": {"estimate": {"warmup_steps": 1, "steps": 4, "safety_factor": 200}}}
MULTI_RUNS = ("multi", "multi-multi", "single-multi", "single-ensemble-multi")  # batch 64, |D|^0.75 sampling
SINGLE_RUNS = ("single.alpha1", "single.alpha0.9", "multi-ft")  # one model per task, batch 32, one job per seed
STALE_NOTE = ("note: results/estimate/calibration/single.json, results/estimate/calibration/multi.json measured "
              "another config; fixed runtimes are used until `snakemake estimate` measures this one")


@pytest.fixture(scope="module")
def estimated(tmp_path_factory):
    root = make_workspace(tmp_path_factory.mktemp("estimate"), ESTIMATE, config="tests/configs/mini.yaml")
    done = snakemake(root, "estimate", "--cores", "2")  # the target first: --configfile would swallow it
    assert done.returncode == 0, done.stderr[-3000:]
    return root


def train_sizes(root) -> dict[str, int]:
    return {t: pq.read_metadata(root / TOKENS / t / "train.parquet").num_rows for t in MINI["tasks"]}


def expected_steps(root) -> dict[str, int]:
    """Every trained variant's steps per run, from the plan's settings and the tokens' sizes alone."""
    n = train_sizes(root)
    multi = planned_steps([n["STS-B"], n["MNLI"], n["RTE"]], 64, 1, "reference_copies", 0.75)
    single = sum(planned_steps([n[t]], 32, 1) for t in MINI["tasks"])
    return {**dict.fromkeys(MULTI_RUNS, multi), **dict.fromkeys(SINGLE_RUNS, single)}


@pytest.mark.full
def test_runs_table_holds_every_run_with_its_planned_steps(estimated):
    runs = pd.read_csv(estimated / "results/estimate/runs.tsv", sep="\t")
    assert list(runs.columns) == ["variant", "seed", "group", "steps", "minutes", "startup_minutes"]
    assert sorted(zip(runs.variant, runs.seed, runs.group)) == sorted(
        (v, s, "all") for v in MULTI_RUNS + SINGLE_RUNS for s in (0, 1))
    steps = expected_steps(estimated)
    assert dict(zip(runs.variant, runs.steps)) == steps
    # by hand, for the synthetic suite's STS-B 300, MNLI 3927, RTE 300 training rows: multi, the reference's
    # epoch (copies (3927 / 300)^0.25 = 1.9 -> 2 of STS-B and of RTE): ceil((3927 + 600 + 600) / 64) = 81;
    # single, three models: ceil(300 / 32) + ceil(3927 / 32) + ceil(300 / 32) = 10 + 123 + 10 = 143
    assert train_sizes(estimated) == {"STS-B": 300, "MNLI": 3927, "RTE": 300}
    assert (steps["multi"], steps["single.alpha1"]) == (81, 143)
    # a run's minutes are its start-up (the imports among it) plus its work
    assert (runs.minutes > runs.startup_minutes).all() and (runs.startup_minutes > 0).all()


@pytest.mark.full
def test_summary_prices_the_plan(estimated):
    runs = pd.read_csv(estimated / "results/estimate/runs.tsv", sep="\t")
    lines = (estimated / "results/estimate/summary.txt").read_text().splitlines()
    assert lines[0] == "Estimate for demo-mini on CPU (cpu, precision auto, max_seq_length 48): 14 training runs"
    total = lines[lines.index("") + 2 + 7]  # the header, seven variants, then the total
    assert total.split() == ["total", "14", f"{runs.minutes.sum() / 60:.3f}"]
    assert lines[-2].startswith("Wall time of the 14 training jobs (teachers and inits finish before their "
                                "students): 1 job: ")
    assert lines[-1].startswith("Largest job: ") and "(x200 + start-up)" in lines[-1]


@pytest.mark.full
def test_next_dry_run_asks_slurm_for_the_estimated_minutes(estimated):
    runs = pd.read_csv(estimated / "results/estimate/runs.tsv", sep="\t")
    asked = planned_train_runtimes(estimated)
    assert set(asked) == {(v, str(s), g) for v, s, g in zip(runs.variant, runs.seed, runs.group)}
    for r in runs.itertuples():
        # README: expected work x safety factor + start-up, in whole minutes; the start-up of a job is the
        # calibration's imports + first use + reading the run's tokens
        calibration = read_json(estimated / "results/estimate/calibration" /
                                f"{'multi' if r.variant in MULTI_RUNS else 'single'}.json")
        startup = (calibration["startup_seconds"] + calibration["first_use_seconds"]
                   + sum(calibration["load_seconds"].values()))
        work = r.minutes * 60 - startup
        expected = max(1, math.ceil((work * 200 + startup) / 60))
        assert abs(asked[(r.variant, str(r.seed), r.group)] - expected) <= 1, r  # runs.tsv keeps 4 decimals
    assert set(asked.values()) != {60}


@pytest.mark.full
@pytest.mark.parametrize("change", [{"training": {"device": "cpu"}}, {"max_seq_length": 40}],
                         ids=["device", "max_seq_length"])
def test_a_changed_config_makes_the_estimate_stale(estimated, change):
    config = yaml.safe_load((estimated / "config.yaml").read_text())
    unchanged = snakemake(estimated, "-n")
    assert STALE_NOTE not in unchanged.stderr
    try:
        key, value = next(iter(change.items()))
        write_config(estimated, {**config, key: {**config[key], **value} if isinstance(value, dict) else value})
        out = snakemake(estimated, "-n")
        assert out.returncode == 0, out.stderr[-3000:]
        assert STALE_NOTE in out.stderr
        assert set(planned_train_runtimes(estimated).values()) == {60}  # the schema's fixed runtime again
    finally:
        write_config(estimated, config)
