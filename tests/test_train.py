"""`bam train` end to end on a tiny BERT: learning, determinism, kill/preempt + resume, NaN, teachers."""

import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch
from tiny_data import tiny_spec

from bam_core.errors import BamError
from bam_core.method.spec import spec_from_dict
from bam_core.method.teachers import main as teacher_logits
from bam_core.method.train import train

torch.set_num_threads(1)


def run(spec: dict) -> dict:
    return train(spec_from_dict(spec))


def predictions(spec: dict) -> pd.DataFrame:
    return pd.read_parquet(Path(spec["output_dir"]) / "predictions.parquet")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted 3-epoch multi-task run (144 steps) that the resumed runs must reproduce; it teaches,
    swapped pairs included."""
    spec = tiny_spec(tmp_path_factory.mktemp("ref"), epochs=3, checkpoint_every=10, predict_swapped=True)
    metrics = run(spec)
    return spec, metrics


def test_outputs_of_a_run(reference):
    spec, metrics = reference
    out = Path(spec["output_dir"])
    assert metrics["steps"] == 144  # 3 * ceil((300 + 160 + 200 + 100) / 16): one copy of each task
    assert json.loads((out / "metrics.json").read_text())["tasks"].keys() == {"CoLA", "MRPC", "STS-B", "RTE"}
    pred = predictions(spec)
    assert pred.groupby(["task", "split"]).size().to_dict() == {
        (t, s): n for t in ("CoLA", "MRPC", "RTE", "STS-B") for s, n in (("dev", 120), ("test", 40))}
    assert pred[pred.split == "test"].label.isna().all()
    stsb = pred[(pred.task == "STS-B") & (pred.split == "dev")]
    assert stsb.prediction.between(0, 5).all() and stsb.label.max() == 5.0  # original 0-5 scale
    logits = pd.read_parquet(out / "logits.parquet")
    assert logits.groupby(["task", "split", "swapped"]).size().to_dict() == {
        **{(t, "dev", False): 120 for t in ("CoLA", "MRPC", "RTE", "STS-B")},
        ("CoLA", "train", False): 300, ("MRPC", "train", False): 160, ("RTE", "train", False): 100,
        ("STS-B", "train", False): 200, ("MRPC", "train", True): 160, ("STS-B", "train", True): 200}
    mrpc = logits[(logits.task == "MRPC") & (logits.split == "train")].set_index(["swapped", "idx"])["logits"]
    assert any(list(mrpc[(False, i)]) != list(mrpc[(True, i)]) for i in range(160))  # each order predicted
    history = pd.read_parquet(out / "history.parquet")
    assert list(history.columns) == ["task", "step", "lambda", "loss", "lr"] and len(history) == 144
    # the schemas pandas wrote before `bam train` dropped it: large strings, a test label is null (not NaN)
    assert [str(f.type) for f in pq.read_schema(out / "predictions.parquet")] == [
        "large_string", "large_string", "int64", "double", "double"]
    assert pq.read_table(out / "predictions.parquet").column("label").null_count == 4 * 40
    assert [str(f.type) for f in pq.read_schema(out / "history.parquet")] == [
        "large_string", "int64", "double", "double", "double"]
    assert not Path(spec["resume_dir"]).exists()  # deleted after success


def test_a_run_that_does_not_teach_has_no_train_logits(tmp_path):
    spec = tiny_spec(tmp_path, tasks=["RTE", "MRPC"], predict_train=False)
    run(spec)
    logits = pd.read_parquet(Path(spec["output_dir"]) / "logits.parquet")
    assert logits.groupby(["task", "split", "swapped"]).size().to_dict() == {
        ("MRPC", "dev", False): 120, ("RTE", "dev", False): 120}


@pytest.mark.full  # 6 tasks x 6 epochs: the longest training of this module
def test_multi_task_training_learns_most_tasks(tmp_path):
    """One multi-task model learns the tiny suite: at least 4 of its 6 tasks clear the majority class by 10 points
    (STS-B: Spearman above 50), at the default seed. Not all 6: this 2-layer model, like the demo's, leaves a
    small task at its majority class on some seeds whatever the code (2026-12-07, seed 0: MRPC 45.8 against a
    majority of 54.2, the other five learnt: CoLA, SST-2, RTE 100, MNLI 63.3, STS-B 80.7; seed 1 learns all six;
    torch's Adam at lr 2e-3 also leaves seed 0's MRPC). Broken task mixing, heads or losses leave most tasks there."""
    # 5e-4 x 6 epochs: BERT's Adam (no bias correction) takes larger early steps than AdamW, which learnt all at
    #   2e-3; with task-mixed batches and the reference's epoch, 1e-3 x 6 epochs diverges (every task at chance)
    #   and 5e-4 x 4 epochs leaves STS-B unlearnt (Spearman 12)
    spec = tiny_spec(tmp_path, tasks=["CoLA", "SST-2", "MRPC", "STS-B", "MNLI", "RTE"], epochs=6, lr=5e-4)
    metrics = run(spec)
    dev = predictions(spec).query("split == 'dev'")
    learnt = {}
    for task, rows in dev.groupby("task"):
        if task == "STS-B":
            learnt[task] = metrics["tasks"][task]["score"] > 50
            continue
        majority = 100 * rows.label.value_counts(normalize=True).max()
        score = metrics["tasks"][task]["score"] if task != "CoLA" else 100 * (rows.prediction == rows.label).mean()
        learnt[task] = score > majority + 10
    assert len(learnt) == 6 and sum(learnt.values()) >= 4, (learnt, metrics["tasks"])


def test_same_seed_same_predictions_single_mode(tmp_path):
    spec = tiny_spec(tmp_path, mode="single", tasks=["RTE", "STS-B"], epochs=1, save_model=True)
    run(spec)
    first = predictions(spec)
    assert (Path(spec["output_dir"]) / "model" / "RTE" / "heads.pt").exists()
    run(spec)
    pd.testing.assert_frame_equal(first, predictions(spec))
    # single-task fine-tuning from the saved model: encoder + that task's head
    tuned = tiny_spec(tmp_path, mode="single", tasks=["RTE"], epochs=1, output_dir=str(tmp_path / "ft"),
                      init={"kind": "checkpoint", "path": str(Path(spec["output_dir"]) / "model")})
    assert run(tuned)["tasks"]["RTE"]["n_dev"] == 120
    tuned["tasks"] = ["CoLA"]
    with pytest.raises(BamError, match="init: task CoLA has no head in checkpoint"):
        run(tuned)


def bam_train(spec: dict, path: Path) -> subprocess.Popen:
    path.write_text(json.dumps(spec))
    return subprocess.Popen([sys.executable, "-m", "bam_core", "train", str(path)], stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})


def wait_for_checkpoint(proc, spec):
    resume = Path(spec["resume_dir"]) / "resume.pt"
    while not resume.exists():
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.01)


@pytest.mark.full  # two processes of `bam train`, one killed mid-run (test_recovery does it through Snakemake)
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killed_run_resumes_to_identical_predictions(reference, tmp_path, sig):
    ref_spec, _ = reference
    spec = {**ref_spec, "output_dir": str(tmp_path / "run"), "resume_dir": str(tmp_path / "resume")}
    proc = bam_train(spec, tmp_path / "spec.json")
    wait_for_checkpoint(proc, spec)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert not (tmp_path / "run" / "metrics.json").exists(), "the run finished before it was killed"
    if sig == signal.SIGTERM:
        assert proc.returncode == 128 + signal.SIGTERM
        assert "exiting on SIGTERM" in err and "checkpoint saved at step" in err
    proc = bam_train(spec, tmp_path / "spec.json")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "resuming from step" in err
    pd.testing.assert_frame_equal(predictions(ref_spec), predictions(spec))


def test_nan_loss_names_step_and_task(tmp_path):
    spec = tiny_spec(tmp_path, tasks=["RTE"], lr=1e30, warmup_fraction=0.0)
    with pytest.raises(BamError, match=r"non-finite loss \(nan or inf\) at step 1 in task RTE"):
        run(spec)
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_distillation_from_a_teacher_run(reference, tmp_path):
    ref_spec, _ = reference
    teacher = tmp_path / "teacher.parquet"
    member = str(Path(ref_spec["output_dir"]) / "logits.parquet")
    assert teacher_logits(["--out", str(teacher), "--member", member]) == 0
    student = {**ref_spec, "teacher_logits": str(teacher), "epochs": 1, "double_unordered": True,
               "output_dir": str(tmp_path / "student"), "resume_dir": str(tmp_path / "resume")}
    metrics = run(student)
    assert metrics["steps"] == 70  # MRPC and STS-B doubled: ceil((300 + 2 * 160 + 2 * 200 + 100) / 16)
    history = pd.read_parquet(Path(student["output_dir"]) / "history.parquet")
    assert history["lambda"].iloc[0] == 0.0 and history["lambda"].iloc[-1] == 69 / 70
    # refused before training: nothing written, no checkpoint
    with pytest.raises(BamError, match="task MNLI: not in teacher logits"):
        run({**student, "tasks": ["RTE", "MNLI"], "output_dir": str(tmp_path / "s2")})
    assert not (tmp_path / "s2").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_cuda_without_gpu_is_one_line(tmp_path):
    with pytest.raises(BamError, match="^device 'cuda' requested but no CUDA GPU is available$"):
        run(tiny_spec(tmp_path, device="cuda"))


class PreemptAfter:
    """Stands in for StopSignals: reports SIGTERM from the n-th check on (one check per training step)."""

    def __init__(self, n):
        self.n = n

    @property
    def received(self):
        self.n -= 1
        return signal.SIGTERM if self.n < 0 else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_single_mode_preempted_in_second_task_resumes_identically(tmp_path, monkeypatch):
    from bam_core.method import checkpoint

    spec = tiny_spec(tmp_path, mode="single", tasks=["RTE", "STS-B"], epochs=2)  # 2 * ceil(100 / 16) + 2 * ceil(200 / 16) = 14 + 26 steps
    run(spec)
    reference = predictions(spec)
    spec = {**spec, "output_dir": str(tmp_path / "run2")}
    with monkeypatch.context() as m:
        m.setattr(checkpoint, "StopSignals", lambda: PreemptAfter(20))
        with pytest.raises(checkpoint.Preempted, match="checkpoint saved at step 7, exiting on SIGTERM"):
            run(spec)
    state = torch.load(Path(spec["resume_dir"]) / "resume.pt", weights_only=False)
    assert list(state["finished"]) == ["RTE"] and state["unit"] == ["STS-B"] and state["step"] == 7
    assert state["wall"] > 0
    state["wall"] = 1000.0  # the earlier attempt's wall time, to its checkpoint, counts in metrics.json
    torch.save(state, Path(spec["resume_dir"]) / "resume.pt")
    started = time.perf_counter()
    wall = run(spec)["wall_seconds"]
    assert 1000.0 < wall <= 1000.0 + time.perf_counter() - started
    pd.testing.assert_frame_equal(reference, predictions(spec))


def test_progress_in_a_job_log_every_ten_percent(tmp_path, caplog, monkeypatch):
    """Without a terminal (a SLURM job), progress is logged at every 10% of the steps, with the time left."""
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a terminal: tqdm disables its bar
    caplog.set_level(logging.INFO, logger="bam.train")
    spec = tiny_spec(tmp_path, tasks=["RTE"], batch_size=1, epochs=2.35)  # ceil(2.35 * 100 / 1) = 235 steps
    assert run(spec)["steps"] == 235
    lines = [r.getMessage() for r in caplog.records if " step " in r.getMessage()]
    # ceil(k * 235 / 10) for k = 1..10 (235 // 100 and 235 // 10 gave only steps 46, 92, ..., 230, 235)
    assert [int(line.split(" step ")[1].split("/")[0]) for line in lines] == [
        24, 47, 71, 94, 118, 141, 165, 188, 212, 235]
    assert all(" loss " in line and " lambda " in line and " ex/s, " in line and line.endswith(" left")
               for line in lines)
    assert lines[-1].endswith("00:00 left")


def test_runs_of_one_job_resume_only_the_unfinished(tmp_path, monkeypatch):
    """`bam train --spec-json A B` (training.seed_jobs: per_variant) trains A then B in one process.
    Preempted in B, the job keeps A's finished results: rerun, it trains only B, and both equal runs made alone."""
    from bam_core.method import checkpoint
    from bam_core.method import train as train_module

    specs = [tiny_spec(tmp_path, tasks=["RTE"], epochs=2, seed=seed, output_dir=str(tmp_path / f"alone{seed}"),
                       resume_dir=str(tmp_path / f"resume{seed}")) for seed in (0, 1)]  # 2 * ceil(100 / 16) = 14 steps
    alone = []
    for spec in specs:
        run(spec)
        alone.append(predictions(spec))
    specs = [{**spec, "output_dir": str(tmp_path / f"together{spec['seed']}")} for spec in specs]
    argv = ["--spec-json", *(json.dumps(spec) for spec in specs)]
    trained = []
    unit = train_module.train_unit
    monkeypatch.setattr(train_module, "train_unit", lambda spec, *a: trained.append(spec.seed) or unit(spec, *a))
    with monkeypatch.context() as m:
        stop = PreemptAfter(14 + 5)  # one for the whole job: A's 14 steps, then SIGTERM at B's 6th
        m.setattr(checkpoint, "StopSignals", lambda: stop)
        assert train_module.main(argv) == 128 + signal.SIGTERM
    kept = torch.load(Path(specs[0]["resume_dir"]) / "resume.pt", weights_only=False)
    assert list(kept["finished"]) == ["RTE"] and kept["unit"] is None and kept["wall"] > 0
    assert train_module.main(argv) == 0
    assert trained == [0, 1, 1]  # A once; B preempted, then resumed
    for spec, expected in zip(specs, alone):
        pd.testing.assert_frame_equal(expected, predictions(spec))
        assert not Path(spec["resume_dir"]).exists()  # cleared once the whole job is done


def test_two_specs_writing_to_one_folder_are_refused(tmp_path):
    from bam_core.method.train import main

    spec = json.dumps(tiny_spec(tmp_path))
    with pytest.raises(BamError, match="^two run specs write to the same output_dir$"):
        main(["--spec-json", spec, spec])


def test_execution_options_override_the_specs(tmp_path):
    """The workflow passes checkpoint cadence and threads beside the specs; metrics.json records what ran."""
    from bam_core.method.train import main

    spec = tiny_spec(tmp_path, tasks=["RTE"], epochs=1, checkpoint_every=20, num_threads=1)
    assert main(["--spec-json", json.dumps(spec), "--checkpoint-every", "3", "--checkpoint-minutes", "0",
                 "--num-threads", "0"]) == 0
    ran = json.loads((Path(spec["output_dir"]) / "metrics.json").read_text())["spec"]
    assert (ran["checkpoint_every"], ran["checkpoint_minutes"], ran["num_threads"]) == (3, None, None)
    with pytest.raises(BamError, match="checkpoint_every"):
        main(["--spec-json", json.dumps(spec), "--checkpoint-every", "0"])


@pytest.mark.parametrize("minutes, saved", [(None, [5]), (1e-9, [1, 2, 3, 4, 5, 6])])
def test_checkpoints_by_steps_and_by_time(tmp_path, monkeypatch, minutes, saved):
    """Every checkpoint_every steps, and once checkpoint_minutes passed since the last save (a tiny one: every
    step); never after the last step. 7 steps: 1 epoch of RTE's 100 rows at batch 16."""
    from bam_core.method import checkpoint

    steps = []
    save = checkpoint.save_resume
    monkeypatch.setattr(checkpoint, "save_resume", lambda d, state: steps.append(state.get("step")) or save(d, state))
    run(tiny_spec(tmp_path, tasks=["RTE"], epochs=1, checkpoint_every=5, checkpoint_minutes=minutes))
    assert steps == saved
