"""A throwaway copy of the workflow (Snakefile, config.yaml, workflow/, profiles/) for tests that run snakemake."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def make_workspace(root: Path, overrides: dict | None = None, config: str = "config.yaml") -> Path:
    """Copy the workflow into `root` with `config` (a path in the repo) as its config.yaml;
    `overrides` are deep-merged into it."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "Snakefile", root / "Snakefile")
    shutil.copytree(REPO / "workflow", root / "workflow", dirs_exist_ok=True)
    shutil.copytree(REPO / "profiles", root / "profiles", dirs_exist_ok=True)  # the default profile, as in a clone
    base = yaml.safe_load((REPO / config).read_text())
    write_config(root, deep_merge(base, overrides or {}))
    return root


def write_config(root: Path, config: dict) -> None:
    (root / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))


def deep_merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def snakemake(root: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run(["snakemake", *args], cwd=root, capture_output=True, text=True, timeout=timeout, env=env)


def planned_jobs(root: Path, *args: str) -> dict[str, int]:
    """Job counts per rule of a dry run (`snakemake -n`), without `all`."""
    result = snakemake(root, "-n", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    counts, in_table = {}, False
    for line in result.stdout.splitlines():
        if line.startswith("job ") and "count" in line:
            in_table = True
            continue
        if in_table:
            parts = line.split()
            if not parts or line.startswith("total"):
                break
            if parts[0].startswith("-"):
                continue
            counts[parts[0]] = int(parts[1])
    counts.pop("all", None)
    return counts
