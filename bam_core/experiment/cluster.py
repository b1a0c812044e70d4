"""SLURM helpers the workflow calls: retry-aware resources and a start-of-run profile check.

A training job killed by SLURM for time or memory leaves its checkpoint behind; Snakemake's
`retries` resubmits it with `attempt` + 1, and resources written as functions of `attempt` ask
for more, so the resumed job fits:

    resources:
        runtime=lambda wc, attempt: runtime_for(attempt, 60),   # 60, 120, 240 ... minutes
        mem_mb=lambda wc, attempt: mem_for(attempt, 16000),     # 16, 24, 36 ... GB

`check_slurm_profile` turns the two common profile mistakes (no partition; a GPU asked of a
partition that has none) into one BamError naming the profile key, before anything is submitted,
instead of a job that pends forever or an sbatch error deep in Snakemake's log.
"""

from __future__ import annotations

import ast
import math
import os
import subprocess
from typing import Callable, Mapping

from bam_core.errors import BamError

PROFILE = "workflow/profiles/slurm/config.yaml"


def runtime_for(attempt: int, base_minutes: int) -> int:
    """Minutes for this attempt: doubled on every retry (a job killed at its limit needs more)."""
    return int(base_minutes) * 2 ** (max(int(attempt), 1) - 1)


def runtime_from_estimate(work_seconds: float, startup_seconds: float, safety_factor: float) -> int:
    """Minutes to ask for a run with an estimate: its expected work x the safety factor, plus its start-up
    (the same on every machine, so not scaled), rounded up to whole minutes."""
    return max(1, math.ceil((work_seconds * safety_factor + startup_seconds) / 60))


def mem_for(attempt: int, base_mb: int) -> int:
    """MB for this attempt: +50% per retry (memory need is steadier than runtime's)."""
    return int(int(base_mb) * 1.5 ** (max(int(attempt), 1) - 1))


def train_job_runtime(plan, estimate, variant: str, seeds: list[int], group: str, safety_factor: float,
                      attempt: int) -> int:
    """Minutes a training job asks for: with an estimate matching the config (`snakemake estimate`, run
    first; reporting.estimate.Estimate), its expected work x safety factor + start-up, else the mode's
    fixed `runtime` per run; doubled on each retry (runtime_for)."""
    estimated = estimate.runtime_minutes(variant, seeds, group, safety_factor)
    fixed = plan.resources(variant)["runtime"] * len(seeds)
    return runtime_for(attempt, estimated or fixed)


def train_job_mem_mb(plan, variant: str, attempt: int) -> int:
    """MB a training job asks for: its mode's `mem_mb`, +50% on each retry (mem_for)."""
    return mem_for(attempt, plan.resources(variant)["mem_mb"])


def sinfo_gres(partition: str) -> list[str] | None:
    """The GRES strings of the partition's nodes (`sinfo -h -p P -o %G`); None if no such partition."""
    out = subprocess.run(
        ["sinfo", "-h", "-p", partition, "-o", "%G"], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise BamError(f"sinfo -p {partition} failed: {out.stderr.strip() or out.returncode}")
    lines = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    return lines or None


def _unset(value) -> bool:
    """Empty, or an environment variable the profile names but the shell did not set ($X left as is)."""
    return value is None or str(value).strip() == "" or str(value).startswith("$")


def check_slurm_profile(
    resources: Mapping[str, object],
    rule_resources: Mapping[str, Mapping[str, object]] | None = None,
    sinfo: Callable[[str], list[str] | None] = sinfo_gres,
) -> None:
    """Raise BamError if the profile cannot work on this cluster.

    resources: the profile's default-resources (slurm_partition, slurm_account, gpu, ...).
    rule_resources: per rule, the resources it will ask for (the rule's own merged with the
    profile's set-resources); a rule may name its own slurm_partition.
    sinfo: partition -> its nodes' GRES strings, or None if the partition does not exist.
    """
    partition = resources.get("slurm_partition")
    if _unset(partition):
        raise BamError(
            f"no SLURM partition: set default-resources: slurm_partition in {PROFILE} "
            f"(it reads $BAM_SLURM_PARTITION), or pass --default-resources slurm_partition=NAME; "
            f"got {partition!r}"
        )
    account = resources.get("slurm_account")
    if account is not None and str(account).startswith("$"):
        raise BamError(
            f"no SLURM account: default-resources: slurm_account in {PROFILE} reads {account}, "
            f"which is not set; export it (empty for none) or write the account there"
        )
    wanted = [("default-resources", None, dict(resources))]
    wanted += [(f"rule {rule}", rule, {**resources, **res}) for rule, res in (rule_resources or {}).items()]
    gres_of: dict[str, list[str] | None] = {}
    for who, rule, res in wanted:
        part = str(res.get("slurm_partition"))
        if part not in gres_of:
            gres_of[part] = sinfo(part)
        if gres_of[part] is None:
            key = "default-resources" if part == str(partition) else f"set-resources: {rule}"
            raise BamError(
                f"SLURM partition {part!r} ({key}: slurm_partition in {PROFILE}) does not exist "
                f"on this cluster (sinfo -p {part})"
            )
        gpus = int(res.get("gpu") or 0)
        if gpus > 0 and not any("gpu" in g for g in gres_of[part]):
            raise BamError(
                f"{who} asks for resource gpu={gpus} but SLURM partition {part!r} has no gpu GRES "
                f"(sinfo -p {part} -o %G: {', '.join(gres_of[part])}); set slurm_partition to a GPU "
                f"partition in {PROFILE} (set-resources for that rule), or gpu: 0"
            )

def _value(resource):
    """A profile resource as Snakemake reads it: $VARS expanded, a Python literal or else a string."""
    if getattr(resource, "is_evaluable", None) is not None:  # a snakemake.resources.Resource
        if not resource.is_evaluable():
            return resource.value
        resource = resource.raw
    if not isinstance(resource, str):
        return resource
    text = os.path.expandvars(resource)
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text

def check_workflow_profile(
    workflow, rule_resources: Mapping[str, Mapping[str, object]], sinfo: Callable = sinfo_gres
) -> None:
    """Check the profile when the executor is slurm, else do nothing. Call it from `onstart:`
    (the executor is not known yet while the Snakefile is parsed, and dry runs need no check).

    workflow: Snakemake's `workflow` object; rule_resources: rule -> the resources the workflow
    gives it (e.g. {"train": {"gpu": 1}}); the profile's set-resources for that rule win.
    """
    plugin = getattr(workflow, "executor_plugin", None)
    if plugin is None or plugin.name != "slurm":
        return  # local runs, and the job step inside a SLURM job, are not checked
    settings = workflow.resource_settings
    defaults = {k: _value(r) for k, r in (settings.default_resources or {}).items()}
    per_rule = {}
    for rule, res in rule_resources.items():
        overrides = (settings.overwrite_resources or {}).get(rule, {})
        per_rule[rule] = {**res, **{k: _value(r) for k, r in overrides.items()}}
    check_slurm_profile(defaults, per_rule, sinfo)
