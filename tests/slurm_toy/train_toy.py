"""A stand-in for `bam train`: a loop that checkpoints, stops cleanly on SIGTERM, and resumes.

    python train_toy.py GROUP OUT CHECKPOINT --steps 20 --step-seconds 0.2 [--hold-mb 0]

Each step folds the step number into a running value; the final value depends only on GROUP and
--steps, so an interrupted-and-resumed run must end equal to an uninterrupted one.
"""

import argparse
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
args.add_argument("--hold-mb", type=int, default=0, help="memory held from step 3 on (memory-limit tests)")
args = args.parse_args()

stop = []
signal.signal(signal.SIGTERM, lambda signum, frame: stop.append(signum))

ckpt = Path(args.checkpoint)
state = read_json(ckpt) if ckpt.exists() else {"step": 0, "value": zlib.crc32(args.group.encode())}
print(f"resuming from step {state['step']}" if state["step"] else "starting at step 0", flush=True)
held = b""
while state["step"] < args.steps:
    if state["step"] >= 3 and not held:  # grow after a checkpoint exists, as a model's memory would
        held = b"\1" * (args.hold_mb * 2**20)  # bytes, not bytearray: the pages must be touched
    if stop:
        write_json(state, ckpt)
        print(f"SIGTERM: checkpoint saved at step {state['step']}", flush=True)
        sys.exit(143)
    time.sleep(args.step_seconds)
    state = {"step": state["step"] + 1, "value": (state["value"] * 31 + state["step"] + 1) % 1_000_003}
    write_json(state, ckpt)
write_text(f"{args.group}\t{state['value']}\n", args.out)
print(f"finished {args.steps} steps", flush=True)
