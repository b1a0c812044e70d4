"""scripts/run_study.sh: resuming a study after its Snakemake was killed, never beside a live one.

The script runs against a throwaway git repository with a stand-in `snakemake` on PATH that records its
arguments, so what it is asked to do is known exactly.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONFIG = "workflow/configs/study.yaml"


@pytest.fixture
def worktree(tmp_path):
    """A git repository holding the script and a bam_core of its own, and a PATH whose snakemake logs calls."""
    tree = tmp_path / "study"
    (tree / "scripts").mkdir(parents=True)
    (tree / "bam_core").mkdir()
    (tree / "bam_core" / "__init__.py").write_text("")
    shutil.copy(REPO / "scripts" / "run_study.sh", tree / "scripts")
    git = ["git", "-C", str(tree), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "study"], check=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "snakemake").write_text(f'#!/bin/sh\necho "$*" >> {tmp_path}/calls\n'
                                       f"echo $(cut -d' ' -f6 /proc/$$/stat) $(cat /proc/$$/autogroup) > {tmp_path}/autogroup\n")
    (bin_dir / "snakemake").chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)
    return tree


def run_study(tree: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{tree.parent / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    return subprocess.run(["bash", "scripts/run_study.sh", CONFIG, *args], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=60)


def calls(tree: Path) -> list[str]:
    log = tree.parent / "calls"
    return log.read_text().splitlines() if log.exists() else []


def test_a_fresh_study_runs_once_and_records_its_commit(worktree):
    result = run_study(worktree)
    assert result.returncode == 0, result.stderr
    assert calls(worktree) == [f"--cores 2 --rerun-incomplete --configfile {CONFIG}"]
    head = subprocess.run(["git", "-C", str(worktree), "rev-parse", "HEAD"], capture_output=True, text=True)
    assert (worktree / "STUDY_COMMIT").read_text() == head.stdout
    assert (worktree / "study.log").read_text().splitlines()[-1].endswith(" done")


@pytest.mark.skipif(not Path("/proc/self/autogroup").exists() or os.geteuid() != 0,
                    reason="needs the kernel's autogroups, and root to renice one")
def test_the_study_runs_in_an_autogroup_of_its_own_niced_as_a_whole(worktree):
    """The CPU is shared between autogroups (one per setsid) whatever each process's nice: only the
    group's nice makes the study yield to, say, a test run started from another terminal."""
    assert run_study(worktree).returncode == 0
    leader, group, word, nice = (worktree.parent / "autogroup").read_text().split()
    assert int(leader) != os.getsid(0) and group.startswith("/autogroup-") and (word, nice) == ("nice", "10")


def test_the_lock_of_a_killed_snakemake_is_removed_before_resuming(worktree):
    (worktree / ".snakemake" / "locks").mkdir(parents=True)
    (worktree / ".snakemake" / "locks" / "0.input.lock").write_text("")
    (worktree / "study.alive").write_text("2026-12-07 08:40:01\n")  # the killed start's last minute
    assert run_study(worktree, "--estimate-after").returncode == 0
    assert calls(worktree) == [f"--unlock --configfile {CONFIG}",
                               f"--cores 2 --rerun-incomplete --configfile {CONFIG}",
                               f"estimate --cores 2 --rerun-incomplete --configfile {CONFIG}",
                               f"--cores 2 --configfile {CONFIG}"]
    log = (worktree / "study.log").read_text().splitlines()
    assert log[0] == "2026-12-07 08:40:01 last seen running"
    assert log[1].endswith(" removing the lock of an interrupted run") and " start at " in log[2]
    assert not (worktree / "study.alive").exists()  # a study that ends leaves no last-seen time


def test_a_snakemake_still_running_in_the_worktree_is_refused(worktree):
    (worktree / ".snakemake" / "locks").mkdir(parents=True)
    (worktree / ".snakemake" / "locks" / "0.input.lock").write_text("")
    live = subprocess.Popen(["bash", "-c", "exec -a snakemake sleep 60"], cwd=worktree)
    try:
        time.sleep(0.2)  # until exec has renamed it
        result = run_study(worktree)
    finally:
        live.kill()
        live.wait()
    assert result.returncode == 1
    assert result.stderr.strip() == f"Snakemake already runs in {worktree} (pid {live.pid})"
    assert calls(worktree) == []
    assert (worktree / ".snakemake" / "locks" / "0.input.lock").exists()
