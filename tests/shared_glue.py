"""The real GLUE TSVs of ../shared/glue (DESIGN.md section 5), for the tests marked `glue`.

A test that needs them carries `@pytest.mark.glue` and reads the folder at `GLUE`; tests/conftest.py calls
`glue_or_skip` before each of them. Without the folder they skip, except under CI=true: there they fail, so
that a CI machine without the data cannot pass with their coverage silently gone (as slurm_or_skip does).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

GLUE = Path(__file__).resolve().parents[2] / "shared" / "glue"
# Every folder SOURCE.md lists (diagnostic/ holds AX); a partial copy counts as absent.
FOLDERS = ("CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE", "WNLI", "diagnostic")


def missing(root: Path = GLUE) -> list[str]:
    """The folders of FOLDERS that `root` lacks (all of them when `root` itself is absent)."""
    return [name for name in FOLDERS if not (root / name).is_dir()]


def glue_or_skip(root: Path = GLUE) -> None:
    """Return if `root` holds every GLUE folder; else skip, or under CI=true fail, naming what is missing."""
    absent = missing(root)
    if not absent:
        return
    why = f"../shared/glue ({root}) lacks {', '.join(absent)}"
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"CI=true but {why}: the tests marked glue must run in CI")
    pytest.skip(why)
