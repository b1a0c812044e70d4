"""A crash of Snakemake itself (SIGKILL to its process group, as a dropped ssh connection or an OOM kill on a
login node does it) mid-training: `snakemake --unlock`, then the README's command unchanged, completes; the
killed run resumes from its checkpoint and the scores equal an uninterrupted run's.

One multi-task run on three small tasks: the data are built once, then copied into a second workspace
that trains without interruption.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml

from tests.workspace import REPO, make_workspace, snakemake, write_config

README_COMMAND = ("snakemake", "--cores", "2")
TRAIN_LOG = "results/logs/train/multi/0/all.log"
CHECKPOINT = "results/checkpoints/multi/0/all/resume.pt"


def workspace(root):
    """tests/configs/mini.yaml reduced to one multi-task run, with no tables (Table 1 needs two variants)."""
    root = make_workspace(root, config="tests/configs/mini.yaml")
    config = yaml.safe_load((root / "config.yaml").read_text())
    del config["tables"]
    config.update(seeds=1, variants={"multi": {"label": "Multi", "mode": "multi"}}, submission_variant="multi")
    config["training"].update(checkpoint_every=5, multi={"lr": 1.0e-3, "batch_size": 64, "epochs": 3})
    write_config(root, config)
    shutil.copytree(REPO / "bam_core", root / "bam_core")  # shadows the installed copy for the Snakefile
    return root


def kill_mid_training(root, timeout=300):
    """Start the README's command in its own process group; SIGKILL the group once training has saved a
    checkpoint (removed when the run completes)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    driver = subprocess.Popen(README_COMMAND, cwd=root, env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while not (root / CHECKPOINT).exists():
            assert driver.poll() is None, "the workflow ended before training could be interrupted"
            assert time.monotonic() < deadline, "training never saved a checkpoint"
            time.sleep(0.1)
    finally:
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait()


@pytest.mark.full
def test_crash_of_snakemake_recovers_with_unlock_and_the_same_command(tmp_path):
    crashed = workspace(tmp_path / "crashed")
    data = snakemake(crashed, "--cores", "2", "--omit-from", "train")
    assert data.returncode == 0, data.stderr[-3000:]
    clean = tmp_path / "clean"
    shutil.copytree(crashed, clean, symlinks=True)
    result = snakemake(clean, "--cores", "2", "results/scores.parquet")
    assert result.returncode == 0, result.stderr[-3000:]

    kill_mid_training(crashed)
    assert not (crashed / "results" / "runs" / "multi" / "0" / "all" / "metrics.json").exists()
    assert snakemake(crashed, "--unlock").returncode == 0
    result = snakemake(crashed, *README_COMMAND[1:])
    assert result.returncode == 0, result.stderr[-3000:]

    resumed = re.search(r"resuming from step (\d+)", (crashed / TRAIN_LOG).read_text())
    assert resumed and int(resumed.group(1)) >= 5
    pd.testing.assert_frame_equal(pd.read_parquet(crashed / "results" / "scores.parquet"),
                                  pd.read_parquet(clean / "results" / "scores.parquet"))
    assert (crashed / "results" / "tables" / "all_tables.tex").exists()


RESOLVED = ("import sys; from snakemake.cli import parse_args; _, a = parse_args(sys.argv[1:]); "
            "print(a.executor, a.rerun_incomplete, a.retries, a.jobs)")


def test_default_profile_keeps_the_slurm_executor(tmp_path):
    """profiles/default is read on top of --profile and wins per key: it must not change the executor."""
    root = make_workspace(tmp_path)
    resolved = subprocess.run([sys.executable, "-c", RESOLVED, "--profile", "workflow/profiles/slurm", "-n"],
                              cwd=root, capture_output=True, text=True, timeout=120)
    assert resolved.stdout.split() == ["slurm", "True", "2", "100"], resolved.stderr
    assert ("Using profiles workflow/profiles/slurm and workflow specific profile profiles/default "
            "for setting default command line arguments.") in resolved.stderr
    plain = subprocess.run([sys.executable, "-c", RESOLVED, "-n"], cwd=root, capture_output=True, text=True,
                           timeout=120)
    assert plain.stdout.split() == ["None", "True", "0", "None"], plain.stderr  # the local executor
    dry = snakemake(root, "-n", "--profile", "workflow/profiles/slurm", "results/data/RTE/train.parquet")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert "slurm_partition=$BAM_SLURM_PARTITION" in dry.stdout  # the SLURM profile's resources apply
