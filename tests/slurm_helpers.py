"""Driving the single-node test SLURM (scripts/slurm/start.sh) from pytest: find it, run a workflow
through it, find a running job, and preempt it the way SLURM does.

Which workflow is under test is data (`WorkflowUnderTest`): the toy DAG in tests/slurm_toy now,
the real reduced demo later (its Snakefile, a --configfile, the files to compare).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
PROFILES = REPO / "workflow" / "profiles"
STATE = Path(os.environ.get("BAM_SLURM_DIR", "/tmp/bam-slurm"))


@dataclass
class WorkflowUnderTest:
    """A workflow the SLURM test runs: what to run, what to compare, how to see training progress."""

    snakefile: Path
    configfiles: list[Path]
    results: list[str]  # files that must be byte-identical between the local and the SLURM run
    config: dict = field(default_factory=dict)  # --config for every run
    long_config: dict = field(default_factory=dict)  # training long enough to be preempted
    timeout_config: dict = field(default_factory=dict)  # training longer than runtime_for(1, ...)
    memory_config: dict = field(default_factory=dict)  # training over mem_for(1, ...), under mem_for(2, ...)
    memory_retry: str = ""  # what Snakemake prints for the retry's larger memory request
    reference_config: dict = field(default_factory=dict)  # local reference runs (same results, faster)
    fail_config: dict = field(default_factory=dict)  # adds a job that fails
    fail_target: str = ""  # its output
    fail_log: str = ""  # its log, which Snakemake's error must name
    train_rule: str = "train"
    train_logs: str = "results/logs/train/**/*.log"  # glob: where "resuming from step N" appears
    ready: Callable[[Path], bool] = lambda workdir: True  # a running training job has progress to keep


def _toy_ready(workdir: Path) -> bool:
    """True once some toy checkpoint is past step 3 (so a resume visibly skips work)."""
    for ckpt in (workdir / "results" / "checkpoints").glob("*.json"):
        try:
            if json.loads(ckpt.read_text())["step"] >= 3:
                return True
        except (ValueError, KeyError):  # caught mid-rename; look again next poll
            pass
    return False


TOY = WorkflowUnderTest(
    snakefile=REPO / "tests" / "slurm_toy" / "Snakefile",
    configfiles=[REPO / "tests" / "slurm_toy" / "config.yaml"],
    results=["results/collected.tsv"],
    config={"steps": 10, "step_seconds": 0.2},
    long_config={"steps": 60, "step_seconds": 0.2},
    timeout_config={"groups": "[a]", "steps": 170, "step_seconds": 0.5, "runtime_minutes": 1},
    # The step (python + its shell, ~250 MB) holds 500 MB more: over 600 MB, under 900 MB on retry.
    memory_config={"groups": "[a]", "steps": 20, "step_seconds": 0.3, "mem_mb": 600, "hold_mb": 500},
    memory_retry="mem_mb=900,",
    reference_config={"step_seconds": 0},
    fail_config={"fail": True},
    fail_target="results/fail.txt",
    fail_log="results/logs/fail.log",
    ready=_toy_ready,
)


def slurm_env() -> dict[str, str] | None:
    """The environment for talking to the test cluster, or None if it is not installed or not up."""
    conf = STATE / "etc" / "slurm.conf"
    if not (shutil.which("sbatch") and shutil.which("sacct") and conf.exists()):
        return None
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        return None
    env = {
        **os.environ,
        "SLURM_CONF": str(conf),
        "BAM_SLURM_PARTITION": os.environ.get("BAM_SLURM_PARTITION", "debug"),
        "BAM_SLURM_ACCOUNT": os.environ.get("BAM_SLURM_ACCOUNT", "bam"),
    }
    ping = subprocess.run(["scontrol", "ping"], env=env, capture_output=True, text=True, timeout=20)
    return env if ping.returncode == 0 and "UP" in ping.stdout else None


def snakemake_cmd(wf: WorkflowUnderTest, workdir: Path, profile: str, config: dict, *extra: str,
                  timeout_s: int = 240) -> list[str]:
    """`snakemake` under `timeout -s INT` (Snakemake ignores SIGTERM while it waits on SLURM)."""
    cmd = ["timeout", "-s", "INT", str(timeout_s), "snakemake", "-s", str(wf.snakefile),
           "--directory", str(workdir), "--profile", str(PROFILES / profile)]
    for cf in wf.configfiles:
        cmd += ["--configfile", str(cf)]
    merged = {**wf.config, **config}
    if merged:
        cmd += ["--config"] + [f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in merged.items()]
    if profile == "slurm":
        cmd += ["--slurm-init-seconds-before-status-checks", "2"]
    return cmd + list(extra)


def run_snakemake(wf, workdir: Path, profile: str, env: dict, config: dict | None = None, *extra: str,
                  timeout_s: int = 240) -> subprocess.CompletedProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = snakemake_cmd(wf, workdir, profile, config or {}, *extra, timeout_s=timeout_s)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout_s + 30)


def running_job(env: dict, rule: str, workdir: Path, ready: Callable[[Path], bool],
                timeout_s: float = 90) -> str:
    """The SLURM id of a running job of `rule` once `ready(workdir)`; the plugin puts the rule in --comment."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        out = subprocess.run(["squeue", "-h", "-t", "R", "-o", "%i|%k"], env=env,
                             capture_output=True, text=True).stdout
        ids = [line.split("|")[0] for line in out.splitlines() if f"rule_{rule}" in line]
        if ids and ready(workdir):
            return ids[0]
        time.sleep(0.3)
    raise AssertionError(f"no running {rule} job with progress within {timeout_s}s")


def preempt(env: dict, jobid: str) -> None:
    """What SLURM does to a preempted job with PreemptMode=REQUEUE: SIGTERM, then back to the queue."""
    subprocess.run(["scontrol", "requeue", jobid], env=env, check=True)


def resumed_steps(workdir: Path, pattern: str) -> list[int]:
    """Every 'resuming from step N' in the training logs."""
    steps = []
    for log in workdir.glob(pattern):
        steps += [int(n) for n in re.findall(r"resuming from step (\d+)", log.read_text())]
    return steps


def read_results(wf: WorkflowUnderTest, workdir: Path) -> dict[str, bytes]:
    return {rel: (workdir / rel).read_bytes() for rel in wf.results}
