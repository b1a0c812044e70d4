"""What a training job asks SLURM for at attempts 1, 2 and 3 (the functions the train rule's resources call),
and the start-of-run profile check against a stand-in `sinfo` first on PATH (no SLURM needed)."""

import os
import stat
import textwrap
from types import SimpleNamespace

import pytest
import yaml

from bam_core.errors import BamError
from bam_core.experiment.cluster import check_workflow_profile, sinfo_gres, train_job_mem_mb, train_job_runtime
from bam_core.reporting.estimate import Estimate
from tests.test_config import plan_of
from tests.test_estimate import ENCODER, MINI, TOKENS, write_calibrations
from tests.tiny_data import write_tiny_tokens
from tests.workspace import make_workspace, snakemake

CALIBRATIONS = [f"results/estimate/calibration/{m}.json" for m in ("single", "multi")]


def resources_config(**resources) -> dict:
    """The mini config with the multi mode's training resources set (single keeps the schema's)."""
    training = dict(MINI["training"], resources={"multi": resources})
    return dict(MINI, training=training)


def runtimes(plan, estimate, variant, seeds, group="all"):
    return [train_job_runtime(plan, estimate, variant, seeds, group, 1.5, attempt) for attempt in (1, 2, 3)]


def test_fixed_runtime_and_memory_grow_on_each_retry(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no tokens, no calibration: the fixed figures
    plan = plan_of(resources_config(runtime=45, mem_mb=3000))
    estimate = Estimate(plan, ENCODER, TOKENS, CALIBRATIONS)
    assert runtimes(plan, estimate, "multi", [0]) == [45, 90, 180]  # doubled per attempt
    assert runtimes(plan, estimate, "multi", [0, 1]) == [90, 180, 360]  # one job for both seeds: twice the work
    assert runtimes(plan, estimate, "single.alpha1", [1]) == [60, 120, 240]  # the schema's 60 for single mode
    assert [train_job_mem_mb(plan, "multi", a) for a in (1, 2, 3)] == [3000, 4500, 6750]  # +50% per attempt
    assert [train_job_mem_mb(plan, "single.alpha0.9", a) for a in (1, 2, 3)] == [4000, 6000, 9000]


def test_estimated_runtime_grows_on_each_retry(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_tiny_tokens(tmp_path / TOKENS, tasks=("STS-B", "MNLI", "RTE"))
    plan = write_calibrations(tmp_path, MINI)  # tests/test_estimate.py works these out by hand: 7 and 2 minutes
    estimate = Estimate(plan, ENCODER, TOKENS, CALIBRATIONS)
    assert runtimes(plan, estimate, "multi", [0]) == [7, 14, 28]
    assert runtimes(plan, estimate, "single.alpha1", [0]) == [2, 4, 8]


@pytest.mark.full
def test_dry_run_asks_for_the_configured_memory(tmp_path):
    root = make_workspace(tmp_path, {"training": {"resources": {"multi": {"mem_mb": 3000, "runtime": 45}}}},
                          config="tests/configs/mini.yaml")
    out = snakemake(root, "-n", "results/runs/multi/0/all/metrics.json")
    assert out.returncode == 0, out.stderr
    block = out.stdout.split("\nrule train:")[1].split("\n\n")[0]
    assert "mem_mb=3000" in block and "runtime=45" in block


# ---- the profile check with a stand-in sinfo ---------------------------------------------------------

SINFO = textwrap.dedent("""\
    #!/bin/sh
    # sinfo -h -p PARTITION -o %G: one GRES line per node of a partition; nothing for an unknown one
    echo "$@" >> "$0.calls"
    case "$3" in
      gpu) echo "gpu:a100:4" ; echo "gpu:a100:4" ;;
      cpu) echo "(null)" ;;
      down) echo "slurm_load_partitions: Unable to contact slurm controller" >&2 ; exit 1 ;;
    esac
    """)


@pytest.fixture
def fake_sinfo(tmp_path, monkeypatch):
    """A `sinfo` first on PATH; returns the file its calls are appended to."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "sinfo"
    script.write_text(SINFO)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir / "sinfo.calls"


def test_sinfo_gres_reads_the_partitions_nodes(fake_sinfo):
    assert sinfo_gres("gpu") == ["gpu:a100:4", "gpu:a100:4"]
    assert sinfo_gres("cpu") == ["(null)"]
    assert sinfo_gres("nope") is None
    with pytest.raises(BamError, match=r"^sinfo -p down failed: slurm_load_partitions: Unable to contact"):
        sinfo_gres("down")
    assert fake_sinfo.read_text().splitlines()[0] == "-h -p gpu -o %G"


def slurm_workflow(defaults: dict, overrides: dict | None = None):
    """What check_workflow_profile reads of Snakemake's `workflow` on a SLURM run (the profile's text)."""
    return SimpleNamespace(executor_plugin=SimpleNamespace(name="slurm"),
                           resource_settings=SimpleNamespace(default_resources=defaults,
                                                             overwrite_resources=overrides or {}))


def test_onstart_check_asks_sinfo(fake_sinfo):
    """The Snakefile's onstart call, with the real sinfo_gres: a GPU asked of a CPU partition stops the run."""
    with pytest.raises(BamError) as info:
        check_workflow_profile(slurm_workflow({"slurm_partition": "cpu"}), {"train": {"gpu": 1}})
    assert str(info.value) == (
        "rule train asks for resource gpu=1 but SLURM partition 'cpu' has no gpu GRES (sinfo -p cpu -o %G: (null)); "
        "set slurm_partition to a GPU partition in workflow/profiles/slurm/config.yaml (set-resources for that "
        "rule), or gpu: 0")
    check_workflow_profile(slurm_workflow({"slurm_partition": "cpu"}, {"train": {"slurm_partition": "'gpu'"}}),
                           {"train": {"gpu": 1}, "calibrate": {"gpu": 0}})
    with pytest.raises(BamError, match=r"^SLURM partition 'nope' \(default-resources: slurm_partition in "):
        check_workflow_profile(slurm_workflow({"slurm_partition": "nope"}), {"train": {"gpu": 0}})
    # one sinfo per partition, however many rules ask
    assert fake_sinfo.read_text().splitlines() == ["-h -p cpu -o %G", "-h -p cpu -o %G", "-h -p gpu -o %G",
                                                    "-h -p nope -o %G"]


def test_snakemake_on_slurm_stops_before_submitting(tmp_path, fake_sinfo):
    """The Snakefile's onstart on a SLURM run (stand-in sinfo): training asks a GPU of a CPU-only partition."""
    for name in ("sbatch", "sacct", "squeue"):  # the plugin wants a status command on PATH; none may run
        stub = fake_sinfo.parent / name
        stub.write_text(f'#!/bin/sh\necho "$0 $@" >> "{fake_sinfo.parent}/others.calls"\nexit 1\n')
        stub.chmod(0o755)
    root = make_workspace(tmp_path / "ws", {"training": {"resources": {"multi": {"gpu": 1}}}},
                          config="tests/configs/mini.yaml")
    out = snakemake(root, "--executor", "slurm", "--jobs", "1", "--default-resources", "slurm_partition='cpu'")
    assert out.returncode == 1
    assert not (fake_sinfo.parent / "others.calls").exists()  # nothing submitted, nothing queried
    assert out.stderr.strip().splitlines()[-1] == (
        "profile error: rule train asks for resource gpu=1 but SLURM partition 'cpu' has no gpu GRES (sinfo -p cpu "
        "-o %G: (null)); set slurm_partition to a GPU partition in workflow/profiles/slurm/config.yaml "
        "(set-resources for that rule), or gpu: 0")
    assert not (root / "results").exists()
