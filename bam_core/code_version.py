"""A fingerprint of each stage's bam_core sources, put into that stage's rule params.

Snakemake's code trigger sees only a rule's own body, not the library it calls; with this in params,
editing bam_core/train.py reruns the training jobs (and what follows), and `--rerun-triggers mtime
input` lets someone who only refactored skip that.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent

STAGE_MODULES = {
    "data": ["data", "synthetic", "glue_tsv", "glue_hub", "prepare", "tasks"],
    "tokens": ["demo_encoder", "tokens"],
    "train": ["spec", "model", "batches", "sampling", "annealing", "optim", "losses", "metrics",
              "checkpoint", "train", "teachers", "alpha_choice", "tasks"],
    "select": ["alpha_choice", "metrics"],
    "scores": ["scores"],
    "stats": ["stats", "report_settings"],
    "tables": ["tables", "paper", "report_settings"],
    "figures": ["figures", "paper", "report_settings"],
    "submission": ["submission"],
}


def code_fingerprint(stage: str) -> str:
    digest = hashlib.sha256()
    for name in STAGE_MODULES[stage]:
        path = _PACKAGE / f"{name}.py"
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
    return digest.hexdigest()[:16]
