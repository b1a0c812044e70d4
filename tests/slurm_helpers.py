"""Driving the single-node test SLURM (scripts/slurm/start.sh) from pytest: find it, run a workflow
through it, find a running job, and preempt it the way SLURM does.

Which workflow is under test is data (`WorkflowUnderTest`): DEMO, the project's own Snakefile on a
reduced demo config (tests/configs/slurm_demo.yaml), and TOY, a DAG of stand-in jobs
(tests/slurm_toy) whose failures, time and memory use can be dialled in cheaply.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd
import pytest
from workspace import make_workspace

REPO = Path(__file__).resolve().parents[1]
PROFILES = REPO / "workflow" / "profiles"
STATE = Path(os.environ.get("BAM_SLURM_DIR", "/tmp/bam-slurm"))


@dataclass
class WorkflowUnderTest:
    """A workflow the SLURM test runs: what to run, what to compare, how to see training progress."""

    snakefile: Path  # absolute, or relative to the run's directory (a workspace copy)
    configfiles: list[Path]
    results: list[str]  # files that must be equal between the local and the SLURM run
    workspace_config: str = ""  # a repo config: each run gets a copy of the workflow with it (tests/workspace.py)
    targets: list[str] = field(default_factory=list)  # what to build (empty: the default rule)
    timeout_s: int = 240  # per snakemake call
    config: dict = field(default_factory=dict)  # config for every run (--config; in a workspace, merged into it)
    timeout_config: dict = field(default_factory=dict)  # training longer than runtime_for(1, ...)
    memory_config: dict = field(default_factory=dict)  # training over mem_for(1, ...), under mem_for(2, ...)
    memory_retry: str = ""  # what Snakemake prints for the retry's larger memory request
    reference_config: dict = field(default_factory=dict)  # local reference runs (same results, faster)
    fail_config: dict = field(default_factory=dict)  # adds a job that fails
    fail_target: str = ""  # its output
    fail_log: str = ""  # its log, which Snakemake's error must name
    train_job: str = "rule_train"  # the start of a preemptible job's SLURM comment (rule_<rule>_wildcards_...)
    train_logs: str = "results/logs/train/**/*.log"  # glob: where "resuming from step N" appears
    # (workdir, job comment) -> the running job has progress to keep
    ready: Callable[[Path, str], bool] = lambda workdir, comment: True


def _demo_ready(workdir: Path, comment: str) -> bool:
    """True once the job's run has a resume checkpoint (written every checkpoint_every steps).
    The plugin's comment is rule_train_wildcards_{variant}_{seed}_{group}."""
    variant, seed, group = comment.removeprefix("rule_train_wildcards_").rsplit("_", 2)
    return (workdir / "results" / "checkpoints" / variant / seed / group / "resume.pt").exists()


DEMO = WorkflowUnderTest(
    snakefile=Path("Snakefile"),
    configfiles=[],
    workspace_config="tests/configs/slurm_demo.yaml",
    targets=["results/scores.parquet"],
    results=["results/scores.parquet"],
    # The local run took 7 minutes on a 2-core machine twice as slow as most, beside the SLURM run and
    # another worker's tests; alone, 3.
    timeout_s=720,
    train_job="rule_train_wildcards_multi_",  # Multi's runs are the long ones
    ready=_demo_ready,
)

# The toy keeps the cases that would cost minutes on the real DAG: a deliberately failing job, and
# jobs outgrowing their time or memory limit (retried with more, resumed from their checkpoint).
TOY = WorkflowUnderTest(
    snakefile=REPO / "tests" / "slurm_toy" / "Snakefile",
    configfiles=[REPO / "tests" / "slurm_toy" / "config.yaml"],
    results=["results/collected.tsv"],
    config={"steps": 10, "step_seconds": 0.2},
    timeout_config={"groups": "[a]", "steps": 170, "step_seconds": 0.5, "runtime_minutes": 1},
    # The toy grows its SLURM job step (Snakemake's job step, its shell, the toy) to 750 MB resident in all,
    # whatever the interpreters and imports took before (they differ by machine): over the first attempt's
    # 600 MB and under the retry's 900 (+50%). SLURM counted 787 MB for it (its log names the step's total).
    memory_config={"groups": "[a]", "steps": 20, "step_seconds": 0.3, "mem_mb": 600, "peak_mb": 750},
    memory_retry="mem_mb=900,",
    reference_config={"step_seconds": 0},
    fail_config={"fail": True},
    fail_target="results/fail.txt",
    fail_log="results/logs/fail.log",
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


def slurm_or_skip() -> dict[str, str]:
    """The cluster's environment; without a cluster, skip, except under CI=true (CI starts one): fail."""
    env = slurm_env()
    if env is None:
        why = "no single-node SLURM running (scripts/slurm/start.sh starts one)"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"CI=true but {why}: the SLURM tests must run in CI")
        pytest.skip(why)
    return env


def snakemake_cmd(wf: WorkflowUnderTest, workdir: Path, profile: str, config: dict, *extra: str,
                  timeout_s: int | None = None) -> list[str]:
    """`snakemake` under `timeout -s INT` (Snakemake ignores SIGTERM while it waits on SLURM).
    A workspace workflow is copied into `workdir` first, with `config` merged into its config.yaml,
    unless `workdir` already holds one (a copy of an earlier run, rerun as it is)."""
    merged = {**wf.config, **config}
    if wf.workspace_config:
        if not (workdir / wf.snakefile).exists():
            make_workspace(workdir, merged, config=wf.workspace_config)
        elif merged:
            raise ValueError(f"{workdir} already holds a workspace; its config is not changed")
        merged = {}
    # Through SLURM, the plugin checks job states every 2 s instead of backing off (tests/slurm_snakemake.py).
    snakemake = [sys.executable, str(REPO / "tests" / "slurm_snakemake.py")] if profile == "slurm" else ["snakemake"]
    cmd = ["timeout", "-s", "INT", str(timeout_s or wf.timeout_s), *snakemake, "-s", str(workdir / wf.snakefile),
           "--directory", str(workdir), "--profile", str(PROFILES / profile)]
    for cf in wf.configfiles:
        cmd += ["--configfile", str(cf)]
    if merged:
        cmd += ["--config"] + [f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in merged.items()]
    if profile == "slurm":
        cmd += ["--slurm-init-seconds-before-status-checks", "2"]
    return cmd + list(extra) + wf.targets


def run_snakemake(wf, workdir: Path, profile: str, env: dict, config: dict | None = None, *extra: str,
                  timeout_s: int | None = None) -> subprocess.CompletedProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = snakemake_cmd(wf, workdir, profile, config or {}, *extra, timeout_s=timeout_s)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=(timeout_s or wf.timeout_s) + 30)


def running_job(env: dict, wf: WorkflowUnderTest, workdir: Path, timeout_s: float = 120) -> str:
    """The SLURM id of a running job whose comment starts with wf.train_job once wf.ready says it has
    progress to keep (the plugin writes rule_<rule>_wildcards_<values> into --comment)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        out = subprocess.run(["squeue", "-h", "-t", "R", "-o", "%i|%k"], env=env,
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            jobid, _, comment = line.partition("|")
            if comment.startswith(wf.train_job) and wf.ready(workdir, comment):
                return jobid
        time.sleep(0.3)
    raise AssertionError(f"no running {wf.train_job}* job with progress within {timeout_s}s")


def preempt(env: dict, jobid: str) -> None:
    """What SLURM does to a preempted job with PreemptMode=REQUEUE: SIGTERM, then back to the queue."""
    subprocess.run(["scontrol", "requeue", jobid], env=env, check=True)


def resumed_steps(workdir: Path, pattern: str) -> list[int]:
    """Every 'resuming from step N' in the training logs."""
    steps = []
    for log in workdir.glob(pattern):
        steps += [int(n) for n in re.findall(r"resuming from step (\d+)", log.read_text())]
    return steps


def read_results(wf: WorkflowUnderTest, workdir: Path) -> dict[str, bytes | pd.DataFrame]:
    """The files to compare: parquet as DataFrames (compare with assert_same_results), others as bytes."""
    return {rel: pd.read_parquet(workdir / rel) if rel.endswith(".parquet") else (workdir / rel).read_bytes()
            for rel in wf.results}


def assert_same_results(got: dict, expected: dict) -> None:
    """Exactly equal: CPU training is deterministic, so a SLURM or resumed run changes no digit."""
    assert got.keys() == expected.keys()
    for rel, value in expected.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(got[rel], value, check_exact=True, obj=rel)
        else:
            assert got[rel] == value, rel
