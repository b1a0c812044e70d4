"""SLURM: the profile check and retry resources (unit, no SLURM), then the workflow through a real
single-node SLURM (skipped unless scripts/slurm/start.sh has started one; CI starts it).

    scripts/slurm/start.sh && pytest tests/test_slurm.py -v

The workflow under test is WORKFLOW (the toy DAG in tests/slurm_toy; the real reduced demo can be
swapped in as another WorkflowUnderTest in tests/slurm_helpers.py).
"""

from __future__ import annotations

import subprocess
from types import SimpleNamespace

import pytest

from bam_core.cluster import check_slurm_profile, check_workflow_profile, mem_for, runtime_for
from bam_core.errors import BamError
from slurm_helpers import (TOY, preempt, read_results, resumed_steps, run_snakemake, running_job,
                           slurm_env, snakemake_cmd)

WORKFLOW = TOY


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


# ---- the workflow through a real single-node SLURM ----------------------------------------------

@pytest.fixture(scope="module")
def slurm():
    env = slurm_env()
    if env is None:
        pytest.skip("no single-node SLURM running (scripts/slurm/start.sh starts one)")
    return env


@pytest.fixture(scope="module")
def local_reference(tmp_path_factory, slurm):
    """The uninterrupted local run every SLURM run must equal."""
    workdir = tmp_path_factory.mktemp("local")
    done = run_snakemake(WORKFLOW, workdir, "local", slurm, WORKFLOW.reference_config)
    assert done.returncode == 0, done.stderr[-3000:]
    return read_results(WORKFLOW, workdir)


@pytest.mark.slurm
def test_slurm_run_equals_local_run(slurm, local_reference, tmp_path):
    done = run_snakemake(WORKFLOW, tmp_path, "slurm", slurm)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "No SLURM account given" not in done.stderr  # the profile passes the account explicitly
    assert read_results(WORKFLOW, tmp_path) == local_reference


@pytest.mark.slurm
def test_failing_job_fails_the_run_and_names_its_log(slurm, tmp_path):
    if not WORKFLOW.fail_config:
        pytest.skip("the workflow under test has no deliberately failing job")
    done = run_snakemake(WORKFLOW, tmp_path, "slurm", slurm, WORKFLOW.fail_config,
                         "--retries", "0", WORKFLOW.fail_target)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "SLURM status is: 'FAILED'" in done.stderr
    assert f"log: {WORKFLOW.fail_log}, {tmp_path}/.snakemake/slurm_logs/" in done.stderr


@pytest.mark.slurm
def test_profile_without_partition_or_with_gpu_on_cpu_partition(slurm, tmp_path):
    no_partition = {k: v for k, v in slurm.items() if k != "BAM_SLURM_PARTITION"}
    done = run_snakemake(WORKFLOW, tmp_path / "a", "slurm", no_partition)
    assert done.returncode == 1
    assert "no SLURM partition: set default-resources: slurm_partition in workflow/profiles/slurm/config.yaml" \
        in done.stderr
    done = run_snakemake(WORKFLOW, tmp_path / "b", "slurm", slurm, {"gpu": 1})
    assert done.returncode == 1
    assert f"asks for resource gpu=1 but SLURM partition '{slurm['BAM_SLURM_PARTITION']}' has no gpu GRES" \
        in done.stderr
    assert not (tmp_path / "b" / ".snakemake" / "slurm_logs").exists()  # nothing was submitted


@pytest.mark.slurm
def test_preempted_training_job_resumes_and_equals_uninterrupted_run(slurm, tmp_path_factory):
    reference = tmp_path_factory.mktemp("local_long")
    done = run_snakemake(WORKFLOW, reference, "local", slurm, {**WORKFLOW.long_config, **WORKFLOW.reference_config})
    assert done.returncode == 0, done.stderr[-3000:]

    workdir = tmp_path_factory.mktemp("preempted")
    cmd = snakemake_cmd(WORKFLOW, workdir, "slurm", WORKFLOW.long_config)
    with subprocess.Popen(cmd, env=slurm, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as run:
        jobid = running_job(slurm, WORKFLOW.train_rule, workdir, WORKFLOW.ready)
        preempt(slurm, jobid)
        out, _ = run.communicate(timeout=300)
    assert run.returncode == 0, out[-3000:]
    steps = resumed_steps(workdir, WORKFLOW.train_logs)
    assert len(steps) == 1 and steps[0] > 0, f"expected one resume from a later step, got {steps}"
    acct = subprocess.run(["sacct", "-X", "-D", "-n", "-P", "-o", "State", "-j", jobid], env=slurm,
                          capture_output=True, text=True).stdout.split()
    assert acct == ["REQUEUED", "COMPLETED"], acct  # the same SLURM job ran twice
    assert read_results(WORKFLOW, workdir) == read_results(WORKFLOW, reference)


@pytest.mark.slurm
@pytest.mark.slow
def test_job_killed_at_time_limit_is_retried_with_more_time_and_resumes(slurm, tmp_path_factory):
    if not WORKFLOW.timeout_config:
        pytest.skip("the workflow under test has no config that outruns its first time limit")
    reference = tmp_path_factory.mktemp("local_timeout")
    done = run_snakemake(WORKFLOW, reference, "local", slurm,
                         {**WORKFLOW.timeout_config, **WORKFLOW.reference_config})
    assert done.returncode == 0, done.stderr[-3000:]
    workdir = tmp_path_factory.mktemp("timeout")
    done = run_snakemake(WORKFLOW, workdir, "slurm", slurm, WORKFLOW.timeout_config, timeout_s=420)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "SLURM status is: 'TIMEOUT'" in done.stderr
    assert "runtime=2," in done.stderr  # attempt 2 asked for twice the time
    steps = resumed_steps(workdir, WORKFLOW.train_logs)
    assert len(steps) == 1 and steps[0] > 0, steps
    assert read_results(WORKFLOW, workdir) == read_results(WORKFLOW, reference)


@pytest.mark.slurm
def test_job_killed_for_memory_is_retried_with_more_memory_and_resumes(slurm, tmp_path_factory):
    if not WORKFLOW.memory_config:
        pytest.skip("the workflow under test has no config that outgrows its first memory request")
    reference = tmp_path_factory.mktemp("local_memory")
    done = run_snakemake(WORKFLOW, reference, "local", slurm,
                         {**WORKFLOW.memory_config, **WORKFLOW.reference_config, "hold_mb": 0})
    assert done.returncode == 0, done.stderr[-3000:]
    workdir = tmp_path_factory.mktemp("memory")
    done = run_snakemake(WORKFLOW, workdir, "slurm", slurm, WORKFLOW.memory_config)
    assert done.returncode == 0, done.stderr[-3000:]
    assert WORKFLOW.memory_retry in done.stderr  # attempt 2 asked for more memory
    killed = [log for log in (workdir / ".snakemake" / "slurm_logs").rglob("*.log")
              if "exceeded memory limit" in log.read_text()]
    assert len(killed) == 1, {str(p): p.read_text()[-800:] for p in workdir.rglob("*.log")}  # SLURM's own log of the killed attempt is kept
    steps = resumed_steps(workdir, WORKFLOW.train_logs)
    assert len(steps) == 1 and steps[0] > 0, steps
    assert read_results(WORKFLOW, workdir) == read_results(WORKFLOW, reference)
