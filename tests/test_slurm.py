"""SLURM: the profile check and retry resources (unit, no SLURM), then the workflow through a real
single-node SLURM (skipped unless scripts/slurm/start.sh has started one; with CI=true, as in CI, they fail
instead: CI must not pass by skipping them).

    scripts/slurm/start.sh && pytest tests/test_slurm.py -v

The SLURM-equals-local comparison, the start-of-run profile check and preemption run the project's
own Snakefile on a reduced demo (DEMO: tests/configs/slurm_demo.yaml, 6 training jobs); a failing
job and jobs killed at their time or memory limit run on a toy DAG of stand-in jobs (TOY:
tests/slurm_toy), where they cost seconds instead of minutes.
"""

from __future__ import annotations

import shutil
import subprocess
from types import SimpleNamespace

import pytest
import slurm_helpers
from slurm_helpers import (
    DEMO,
    TOY,
    assert_same_results,
    preempt,
    read_results,
    resumed_steps,
    run_snakemake,
    running_job,
    slurm_or_skip,
    snakemake_cmd,
)

from bam_core.errors import BamError
from bam_core.experiment.cluster import check_slurm_profile, check_workflow_profile, mem_for, runtime_for

# ---- unit: retry resources -------------------------------------------------------------------

def test_runtime_doubles_per_attempt():
    assert [runtime_for(a, 60) for a in (1, 2, 3)] == [60, 120, 240]
    assert runtime_for(0, 5) == 5  # Snakemake counts attempts from 1; 0 is treated as the first


def test_mem_grows_half_per_attempt():
    assert [mem_for(a, 16000) for a in (1, 2, 3)] == [16000, 24000, 36000]
    assert mem_for(2, 200) == 300


# ---- unit: the profile check, sinfo mocked ----------------------------------------------------

SINFO = {"cpu": ["(null)"], "gpu": ["gpu:a100:4", "gpu:a100:8(S:0-1)"], "mixed": ["(null)", "gpu:2"]}


def sinfo(partition):
    return SINFO.get(partition)


def test_no_partition_names_the_profile_key():
    for value in (None, "", "$BAM_SLURM_PARTITION"):
        with pytest.raises(BamError) as err:
            check_slurm_profile({"slurm_partition": value}, sinfo=sinfo)
        assert str(err.value).startswith("no SLURM partition: set default-resources: slurm_partition in "
                                         "workflow/profiles/slurm/config.yaml")
        assert f"got {value!r}" in str(err.value)


def test_unset_account_variable_names_the_key():
    with pytest.raises(BamError, match=r"^no SLURM account: default-resources: slurm_account in "
                                       r"workflow/profiles/slurm/config.yaml reads \$BAM_SLURM_ACCOUNT"):
        check_slurm_profile({"slurm_partition": "gpu", "slurm_account": "$BAM_SLURM_ACCOUNT"}, sinfo=sinfo)


def test_gpu_on_partition_without_gpus_names_resource_and_partition():
    with pytest.raises(BamError) as err:
        check_slurm_profile({"slurm_partition": "cpu", "gpu": 0}, {"train": {"gpu": 1}}, sinfo=sinfo)
    assert str(err.value) == (
        "rule train asks for resource gpu=1 but SLURM partition 'cpu' has no gpu GRES "
        "(sinfo -p cpu -o %G: (null)); set slurm_partition to a GPU partition in "
        "workflow/profiles/slurm/config.yaml (set-resources for that rule), or gpu: 0")


def test_gpu_default_resource_is_checked_too():
    with pytest.raises(BamError, match=r"^default-resources asks for resource gpu=2 but SLURM partition 'cpu'"):
        check_slurm_profile({"slurm_partition": "cpu", "gpu": 2}, sinfo=sinfo)


def test_unknown_partition():
    with pytest.raises(BamError, match=r"^SLURM partition 'nope' \(default-resources: slurm_partition in "
                                       r"workflow/profiles/slurm/config.yaml\) does not exist"):
        check_slurm_profile({"slurm_partition": "nope"}, sinfo=sinfo)
    with pytest.raises(BamError, match=r"^SLURM partition 'nope' \(set-resources: train: slurm_partition in "):
        check_slurm_profile({"slurm_partition": "cpu"}, {"train": {"slurm_partition": "nope"}}, sinfo=sinfo)


def test_valid_profiles_pass():
    calls = []

    def counting(partition):
        calls.append(partition)
        return sinfo(partition)

    check_slurm_profile({"slurm_partition": "gpu", "slurm_account": "lab"}, {"train": {"gpu": 1}}, sinfo=counting)
    check_slurm_profile({"slurm_partition": "cpu"}, {"train": {"gpu": 1, "slurm_partition": "mixed"},
                                                     "stats": {"gpu": 0}}, sinfo=counting)
    assert calls == ["gpu", "cpu", "mixed"]  # one sinfo per partition


def _workflow(executor, defaults, overrides=None):
    raw = {k: v for k, v in defaults.items()}  # plain values: the profile's text, before evaluation
    return SimpleNamespace(
        executor_plugin=executor and SimpleNamespace(name=executor),
        resource_settings=SimpleNamespace(default_resources=raw, overwrite_resources=overrides or {}))


def test_workflow_check_reads_snakemake_resources(monkeypatch):
    """The same through Snakemake's own Resource objects (a profile value is an expression)."""
    from snakemake.resources import Resource

    monkeypatch.setenv("BAM_TEST_PART", "cpu")
    wf = _workflow("slurm", {"slurm_partition": Resource.from_cli_expression("slurm_partition", "$BAM_TEST_PART"),
                             "gpu": Resource("gpu", 2)})
    with pytest.raises(BamError, match="^default-resources asks for resource gpu=2 but SLURM partition 'cpu'"):
        check_workflow_profile(wf, {}, sinfo)


def test_workflow_check_reads_profile_values(monkeypatch):
    monkeypatch.setenv("BAM_TEST_PART", "cpu")
    seen = []

    def recording(partition):
        seen.append(partition)
        return sinfo(partition)

    wf = _workflow("slurm", {"slurm_partition": "$BAM_TEST_PART", "gpu": "0", "mem_mb": 4000},
                   {"train": {"slurm_partition": "'gpu'"}})
    check_workflow_profile(wf, {"train": {"gpu": 1}}, recording)  # train goes to the GPU partition: fine
    assert seen == ["cpu", "gpu"]
    with pytest.raises(BamError, match="rule train asks for resource gpu=1 but SLURM partition 'cpu'"):
        check_workflow_profile(_workflow("slurm", {"slurm_partition": "$BAM_TEST_PART"}), {"train": {"gpu": 1}},
                               recording)
    check_workflow_profile(_workflow("local", {}), {"train": {"gpu": 1}})  # not slurm: nothing checked
    check_workflow_profile(_workflow(None, {}), {"train": {"gpu": 1}})  # dry run: nothing checked


def test_without_slurm_ci_fails_and_elsewhere_skips(monkeypatch):
    monkeypatch.setattr(slurm_helpers, "slurm_env", lambda: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"^CI=true but no single-node SLURM running \(scripts/slurm"):
        slurm_or_skip()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match=r"^no single-node SLURM running"):
        slurm_or_skip()


# ---- the workflow through a real single-node SLURM ----------------------------------------------

@pytest.fixture(scope="module")
def slurm():
    return slurm_or_skip()


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory, slurm):
    """The demo through SLURM and, side by side, locally (snakemake --cores 2, uninterrupted): the
    SLURM run spends most of its time waiting on the scheduler, so together they take little more
    than it alone."""
    local, on_slurm = tmp_path_factory.mktemp("local"), tmp_path_factory.mktemp("slurm")
    cmd = snakemake_cmd(DEMO, on_slurm, "slurm", {})
    with subprocess.Popen(cmd, env=slurm, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as run:
        try:
            done = run_snakemake(DEMO, local, "local", slurm)
        finally:
            _, slurm_stderr = run.communicate(timeout=DEMO.timeout_s + 30)
    assert done.returncode == 0, done.stderr[-3000:]
    return SimpleNamespace(local=local, slurm=on_slurm, slurm_returncode=run.returncode, slurm_stderr=slurm_stderr)


@pytest.mark.full
@pytest.mark.slurm
def test_slurm_run_equals_local_run(demo_runs):
    assert demo_runs.slurm_returncode == 0, demo_runs.slurm_stderr[-3000:]
    assert "No SLURM account given" not in demo_runs.slurm_stderr  # the profile passes the account explicitly
    submitted = {line.split("/")[0] for line in demo_runs.slurm_stderr.split("slurm_logs/rule_")[1:]}
    assert submitted == {"prepare", "demo_encoder", "tokenize", "train"}  # the rest runs on the submit host
    assert_same_results(read_results(DEMO, demo_runs.slurm), read_results(DEMO, demo_runs.local))


@pytest.mark.full
@pytest.mark.slurm
def test_failing_job_fails_the_run_and_names_its_log(slurm, tmp_path):
    done = run_snakemake(TOY, tmp_path, "slurm", slurm, TOY.fail_config, "--retries", "0", TOY.fail_target)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "SLURM status is: 'FAILED'" in done.stderr
    assert f"log: {TOY.fail_log}, {tmp_path}/.snakemake/slurm_logs/" in done.stderr


@pytest.mark.full
@pytest.mark.slurm
def test_profile_without_partition_or_with_gpu_on_cpu_partition(slurm, tmp_path):
    """The real Snakefile's onstart check: exit 1 naming the profile key, before anything is submitted."""
    no_partition = {k: v for k, v in slurm.items() if k != "BAM_SLURM_PARTITION"}
    done = run_snakemake(DEMO, tmp_path / "a", "slurm", no_partition)
    assert done.returncode == 1
    assert "profile error: no SLURM partition: set default-resources: slurm_partition in " \
           "workflow/profiles/slurm/config.yaml" in done.stderr
    gpu = {"training": {"resources": {"multi": {"gpu": 1}}}}
    done = run_snakemake(DEMO, tmp_path / "b", "slurm", slurm, gpu)
    assert done.returncode == 1
    assert f"profile error: rule train asks for resource gpu=1 but SLURM partition " \
           f"'{slurm['BAM_SLURM_PARTITION']}' has no gpu GRES" in done.stderr
    for workdir in (tmp_path / "a", tmp_path / "b"):
        assert not (workdir / ".snakemake" / "slurm_logs").exists()  # nothing was submitted
        assert not (workdir / "results").exists()


@pytest.mark.full
@pytest.mark.slurm
def test_preempted_training_job_resumes_and_equals_uninterrupted_run(slurm, demo_runs, tmp_path):
    """A copy of the local run without Multi's seed-0 run (a long one): SLURM retrains it, the test
    preempts it mid-training, SLURM requeues it, it resumes, and the scores come out the same.
    (The whole DAG through SLURM is test_slurm_run_equals_local_run's.)"""
    workdir = tmp_path / "preempted"
    shutil.copytree(demo_runs.local, workdir)  # copy2: mtimes and .snakemake metadata kept, nothing else reruns
    shutil.rmtree(workdir / "results" / "runs" / "multi" / "0")
    (workdir / "results" / "scores.parquet").unlink()
    cmd = snakemake_cmd(DEMO, workdir, "slurm", {})
    with subprocess.Popen(cmd, env=slurm, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as run:
        try:
            jobid = running_job(slurm, DEMO, workdir)
            preempt(slurm, jobid)
        finally:
            out, _ = run.communicate(timeout=DEMO.timeout_s + 30)
    assert run.returncode == 0, out[-3000:]
    assert out.count("rule train:") == 1, out[-3000:]  # only that run was submitted
    steps = resumed_steps(workdir, DEMO.train_logs)
    assert len(steps) == 1 and steps[0] > 0, f"expected one resume from a later step, got {steps}"
    acct = subprocess.run(["sacct", "-X", "-D", "-n", "-P", "-o", "State", "-j", jobid], env=slurm,
                          capture_output=True, text=True).stdout.split()
    assert acct == ["REQUEUED", "COMPLETED"], acct  # the same SLURM job ran twice
    assert_same_results(read_results(DEMO, workdir), read_results(DEMO, demo_runs.local))


@pytest.mark.full
@pytest.mark.slurm
@pytest.mark.slow
def test_job_killed_at_time_limit_is_retried_with_more_time_and_resumes(slurm, tmp_path_factory):
    reference = tmp_path_factory.mktemp("local_timeout")
    done = run_snakemake(TOY, reference, "local", slurm,
                         {**TOY.timeout_config, **TOY.reference_config})
    assert done.returncode == 0, done.stderr[-3000:]
    workdir = tmp_path_factory.mktemp("timeout")
    done = run_snakemake(TOY, workdir, "slurm", slurm, TOY.timeout_config, timeout_s=420)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "SLURM status is: 'TIMEOUT'" in done.stderr
    assert "runtime=2," in done.stderr  # attempt 2 asked for twice the time
    steps = resumed_steps(workdir, TOY.train_logs)
    assert len(steps) == 1 and steps[0] > 0, steps
    assert read_results(TOY, workdir) == read_results(TOY, reference)


@pytest.mark.full
@pytest.mark.slurm
def test_job_killed_for_memory_is_retried_with_more_memory_and_resumes(slurm, tmp_path_factory):
    reference = tmp_path_factory.mktemp("local_memory")
    done = run_snakemake(TOY, reference, "local", slurm,
                         {**TOY.memory_config, **TOY.reference_config, "peak_mb": 0})
    assert done.returncode == 0, done.stderr[-3000:]
    workdir = tmp_path_factory.mktemp("memory")
    done = run_snakemake(TOY, workdir, "slurm", slurm, TOY.memory_config)
    assert done.returncode == 0, done.stderr[-3000:]
    assert TOY.memory_retry in done.stderr  # attempt 2 asked for more memory
    killed = [log for log in (workdir / ".snakemake" / "slurm_logs").rglob("*.log")
              if "exceeded memory limit" in log.read_text()]
    assert len(killed) == 1, {str(p): p.read_text()[-800:] for p in workdir.rglob("*.log")}  # SLURM's own log of the killed attempt is kept
    steps = resumed_steps(workdir, TOY.train_logs)
    assert len(steps) == 1 and steps[0] > 0, steps
    assert read_results(TOY, workdir) == read_results(TOY, reference)
