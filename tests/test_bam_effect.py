"""A regression test of the method on a reduced synthetic suite (shared rules, noisy training labels): over
SEEDS, Single->Multi (distillation with teacher annealing from Single's seed-0 run) against Multi and against a
control taught by the same logits shuffled across examples (the teacher's numbers without its knowledge).

Why it cannot flake: each claim is paired per seed (student seed k against Multi seed k and against the control
seed k: same initialisation, same batches, only the targets differ), is about a mean or median over 8 seeds,
and has a margin several standard errors wide by the per-seed differences measured (under SEEDS). Another CPU
or torch build changes every run's numbers (medians 2.7 apart on two machines at d0bab79), which moves each
pair, not the claims. Single is not compared: its per-seed distance to Single->Multi (-3.2 to +8.8) is within
seed noise on this suite, so no claim about it holds on every machine. A change that breaks distillation,
annealing or teacher loading fails it. Runs prepare -> demo-encoder -> tokenize -> train in-process, 32 runs:
full tier (`python -m pytest --full`); `--full -m method_effect` runs it alone.
"""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from bam_core.data import demo_encoder, prepare, tokens
from bam_core.io import parquet_metadata
from bam_core.method.spec import spec_from_dict
from bam_core.method.teachers import merge_logits
from bam_core.method.train import train

pytestmark = [pytest.mark.full, pytest.mark.method_effect]
# A reduced suite and a smaller, randomly initialised model than the demo's (hidden 32, no MLM pretraining,
# noise 0.2: the demo's settings before pretraining), which show the effect in a fraction of the time.
TASKS = ["MNLI", "RTE", "QQP", "MRPC"]
SEEDS = list(range(8))
# Per-seed differences measured (2026-12-07, seeds 0-7, 2 cores of a KVM machine, torch 2.13 CPU; and seeds 0-2
# on 2 cores of an AMD EPYC, Zen 3):
#   Single->Multi - Multi      +1.0 +4.6 +0.9 +3.6 +1.6 +1.8 +1.8 +1.2 (mean +2.1); +2.3 +2.8 +6.0
#   Single->Multi - shuffled   +3.8 +33.1 +25.8 +5.8 +2.4 +3.1 +5.2 +7.5 (median +5.5); +6.5 +8.3 +23.0
#   shuffled - Multi           -2.8 -28.4 -24.9 -2.2 -0.8 -1.3 -3.3 -6.3 (mean -8.8); -4.2 -5.5 -17.0
SUITE = ["--synthetic-scale", "0.25", "--synthetic-label-noise", "0.2", "--synthetic-sharing", "1.0"]
ENCODER = ["--vocab-size", "1000", "--hidden-size", "32", "--intermediate-size", "64", "--initializer-range", "0.05"]
SETTINGS = {  # the demo's optimiser settings before pretraining
    "single": {"lr": 4e-3, "batch_size": 16, "epochs": 6, "adam_bias_correction": True},
    "multi": {"lr": 1e-3, "batch_size": 32, "epochs": 6, "adam_bias_correction": True},
}


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    root = tmp_path_factory.mktemp("bam_effect")
    torch.set_num_threads(1)
    for task in TASKS:
        assert prepare.main([task, "--out-dir", str(root / "data" / task), "--source", "synthetic", *SUITE]) == 0
    encoder = root / "encoder"
    assert demo_encoder.main(["--data-dir", str(root / "data"), "--tasks", *TASKS, "--out-dir", str(encoder),
                              *ENCODER, "--max-position-embeddings", "64"]) == 0
    for task in TASKS:
        assert tokens.main(["--tokenizer", str(encoder), "--data-dir", str(root / "data" / task),
                            "--out-dir", str(root / "tokens" / task), "--max-seq-length", "64"]) == 0
    return root


def dev_average(root, name, mode, seed, teacher=None):
    spec = spec_from_dict({
        "name": name, "mode": mode, "tasks": TASKS, "tokens_dir": str(root / "tokens"),
        "init": {"kind": "config", "path": str(root / "encoder")}, "teacher_logits": teacher,
        **SETTINGS[mode], "max_seq_length": 64, "seed": seed, "num_threads": 1, "device": "cpu",
        "checkpoint_every": 100000, "predict_train": name == "single",  # only a teacher predicts its train split
        "output_dir": str(root / name / str(seed)),
        "resume_dir": str(root / "resume" / name / str(seed))})
    return float(np.mean([t["score"] for t in train(spec)["tasks"].values()]))


def shuffled(path, out):
    """The same logits, permuted across the examples of each task and split: the teacher's numbers
    without its knowledge of which example is which."""
    table, rng = pq.read_table(path), np.random.default_rng(0)
    order = np.arange(table.num_rows)
    keys = [f"{t}/{s}" for t, s in zip(table.column("task").to_pylist(), table.column("split").to_pylist())]
    for key in sorted(set(keys)):  # a set's order changes with the process's string hashing
        rows = np.flatnonzero(np.array(keys) == key)
        order[rows] = rng.permutation(rows)
    logits = table.column("logits").take(pa.array(order))
    table = table.set_column(table.schema.get_field_index("logits"), "logits", logits)
    meta = parquet_metadata(path)
    pq.write_table(table.replace_schema_metadata({**(table.schema.metadata or {}), **{k.encode(): v.encode()
                                                 for k, v in meta.items()}}), out)
    return str(out)


@pytest.fixture(scope="module")
def scores(suite):
    """Dev averages per variant, one per seed of SEEDS. Two worker processes (spawned, as a forked torch can
    hang), one torch thread each, so every run computes what it would alone; the students wait for Single's
    seed 0, their teacher."""
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        def runs(name, mode, teacher=None):
            return [pool.submit(dev_average, suite, name, mode, s, teacher) for s in SEEDS]

        futures = {"single": runs("single", "single"), "multi": runs("multi", "multi")}
        futures["single"][0].result()
        teacher = str(suite / "teacher.parquet")
        merge_logits([[str(suite / "single" / str(SEEDS[0]) / "logits.parquet")]], teacher)  # one member: one run
        futures["single-multi"] = runs("single-multi", "multi", teacher)
        futures["shuffled"] = runs("shuffled-teacher", "multi", shuffled(teacher, suite / "shuffled.parquet"))
        result = {k: np.array([f.result() for f in v]) for k, v in futures.items()}
    print({k: [round(x, 1) for x in v] for k, v in result.items()})
    return result


def test_single_multi_beats_multi_seed_by_seed(scores):
    """Distillation with teacher annealing lifts the student above Multi, seed for seed: mean paired gain above 0.5
    (measured +2.1, standard error ~0.5) and a gain on at least 5 of 8 seeds (measured: 11 of 11). Annealing stuck
    at lambda = 1 trains Multi itself: a gain of 0 on every seed."""
    gain = scores["single-multi"] - scores["multi"]
    assert gain.mean() > 0.5 and np.sum(gain > 0) >= 5, gain.round(1)


def test_shuffled_teacher_loses_the_advantage(scores):
    """The control, bounded on both sides: the same logits shuffled across examples give no gain over Multi (mean
    paired difference below 0; measured -0.8 to -28.4 per seed) and leave the student below the real teacher's
    (median paired difference above 1; measured +2.4 to +33.1 per seed): the student gains the teacher's knowledge,
    not its numbers. Logits joined to the wrong examples make the real teacher a shuffled one and fail here."""
    assert (scores["shuffled"] - scores["multi"]).mean() < 0, scores
    assert np.median(scores["single-multi"] - scores["shuffled"]) > 1, scores
