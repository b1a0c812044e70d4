"""A stand-in for `bam train`: a loop that checkpoints, stops cleanly on SIGTERM, and resumes.

    python train_toy.py GROUP OUT CHECKPOINT --steps 20 --step-seconds 0.2 [--peak-mb 0]

Each step folds the step number into a running value; the final value depends only on GROUP and
--steps, so an interrupted-and-resumed run must end equal to an uninterrupted one.
"""

import argparse
import os
import signal
import sys
import time
import zlib
from pathlib import Path

from bam_core.io import read_json, write_json, write_text

args = argparse.ArgumentParser()
args.add_argument("group")
args.add_argument("out")
args.add_argument("checkpoint")
args.add_argument("--steps", type=int, default=20)
args.add_argument("--step-seconds", type=float, default=0.2)
args.add_argument("--peak-mb", type=int, default=0,
                  help="resident size to grow to from step 3 on (memory-limit tests); 0: no growth")
args = args.parse_args()

stop = []
signal.signal(signal.SIGTERM, lambda signum, frame: stop.append(signum))

ckpt = Path(args.checkpoint)
state = read_json(ckpt) if ckpt.exists() else {"step": 0, "value": zlib.crc32(args.group.encode())}
print(f"resuming from step {state['step']}" if state["step"] else "starting at step 0", flush=True)


def resident_mb(proc: Path) -> int:
    """A process's resident size (VmRSS); 0 for one that ended or holds none."""
    try:
        line = next((x for x in (proc / "status").read_text().splitlines() if x.startswith("VmRSS:")), None)
    except OSError:
        return 0
    return int(line.split()[1]) // 1024 if line else 0


def step_resident_mb() -> int:
    """What SLURM's jobacct_gather/linux holds against the memory limit: the resident size of every process
    of this job step (Snakemake's job step, its shell, this script), whose start-up sizes differ by machine;
    outside SLURM, this process's own."""
    ids = [f"{k}={os.environ[k]}" for k in ("SLURM_JOB_ID", "SLURM_STEP_ID") if k in os.environ]
    if not ids:
        return resident_mb(Path("/proc/self"))
    total = 0
    for proc in Path("/proc").iterdir():
        try:
            env = b"\0" + (proc / "environ").read_bytes() if proc.name.isdigit() else b""
        except OSError:  # ended meanwhile
            continue
        if env and all(f"\0{i}\0".encode() in env + b"\0" for i in ids):
            total += resident_mb(proc)
    return total


held = b""
while state["step"] < args.steps:
    if state["step"] >= 3 and not held and args.peak_mb:  # grow after a checkpoint exists, as a model's would
        # Up to a total, not by a fixed amount: the test's margins to SLURM's limits hold whatever the imports take.
        held = b"\1" * (max(args.peak_mb - step_resident_mb(), 1) * 2**20)  # bytes, not bytearray: pages touched
        print(f"step {state['step']}: this job step holds {step_resident_mb()} MB", flush=True)
    if stop:
        write_json(state, ckpt)
        print(f"SIGTERM: checkpoint saved at step {state['step']}", flush=True)
        sys.exit(143)
    time.sleep(args.step_seconds)
    state = {"step": state["step"] + 1, "value": (state["value"] * 31 + state["step"] + 1) % 1_000_003}
    write_json(state, ckpt)
write_text(f"{args.group}\t{state['value']}\n", args.out)
print(f"finished {args.steps} steps", flush=True)
