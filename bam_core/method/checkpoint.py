"""Preemption-safe resume state: everything needed to continue a run bit-for-bit.

`{resume_dir}/resume.pt` holds the spec, the unit being trained (its model, optimizer, scheduler,
step, history, counters), the python/numpy/torch RNG states and, in single mode, the results of the
tasks already finished. It is written atomically every checkpoint_every steps and when SLURM sends
SIGTERM/SIGUSR1; the sampler needs no state (its batches are a function of seed and step).
A checkpoint written for another spec is refused: the user deletes resume_dir to start over.
"""

from __future__ import annotations

import logging
import random
import shutil
import signal
from pathlib import Path

import numpy as np
import torch

from bam_core.errors import BamError
from bam_core.io import atomic_output
from bam_core.method.spec import EXECUTION_KEYS

log = logging.getLogger("bam.checkpoint")
RESUME_FILE = "resume.pt"
# Keys that change nothing in the results: a resumed run may differ in them.
IGNORED_KEYS = ("name", "eval_batch_size", "device", *EXECUTION_KEYS)


def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_resume(resume_dir: str | Path, state: dict) -> None:
    with atomic_output(Path(resume_dir) / RESUME_FILE) as tmp:
        torch.save(state, tmp)


def load_resume(resume_dir: str | Path, spec_dict: dict) -> dict | None:
    """The saved state, None when there is none; BamError when it was written for a different spec."""
    path = Path(resume_dir) / RESUME_FILE
    if not path.exists():
        return None
    state = torch.load(path, map_location="cpu", weights_only=False)
    saved = state["spec"]
    for key in sorted(set(saved) | set(spec_dict)):
        if key not in IGNORED_KEYS and saved.get(key) != spec_dict.get(key):
            raise BamError(
                f"resume checkpoint {path} was written for a different spec (key {key!r}: "
                f"{saved.get(key)!r} there, {spec_dict.get(key)!r} now); delete {resume_dir} to start over"
            )
    return state


def clear_resume(resume_dir: str | Path) -> None:
    shutil.rmtree(resume_dir, ignore_errors=True)


class Preempted(Exception):
    """Raised after the checkpoint was saved on SIGTERM/SIGUSR1; the CLI exits 128 + signal number."""

    def __init__(self, signum: int, step: int):
        super().__init__(f"checkpoint saved at step {step}, exiting on {signal.Signals(signum).name}")
        self.signum, self.step = signum, step


class StopSignals:
    """While active, SIGTERM and SIGUSR1 only set `received`; the loop saves at the end of its step."""

    SIGNALS = (signal.SIGTERM, signal.SIGUSR1)

    def __init__(self):
        self.received: int | None = None
        self._previous = {}

    def _handle(self, signum, frame):
        log.info("received %s, saving a checkpoint after this step", signal.Signals(signum).name)
        self.received = signum

    def __enter__(self):
        for sig in self.SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        return False
