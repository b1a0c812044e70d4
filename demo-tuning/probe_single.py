"""Single's one-class runs over many seeds: Single on a few tasks of a suite that `demo-tuning/explore_demo.py`
built (its data, tokens and pretrained encoder under --out), one process per seed, two side by side.
Prints each seed's dev scores, then one RESULT line: runs within 2 points of chance (or at 99+) and medians.

    PYTHONPATH=$PWD python demo-tuning/probe_single.py /tmp/explore d0 '{"dropout": 0.0}' 12 CoLA SST-2 MRPC STS-B QNLI RTE

Settings start from the demo's Single before f2cac15 (torch's Adam, lr 4e-3, batch 16, 6 epochs, alpha 0.9,
dropout 0.1); the JSON overrides them. Chance is the majority class of the suite's dev split (0 for CoLA's MCC
and STS-B's correlation).
"""

import json
import logging
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from explore_demo import chance  # demo-tuning/ is on the path when this script runs

BASE = {"lr": 4e-3, "batch_size": 16, "epochs": 6, "adam_bias_correction": True, "layerwise_lr_decay": 0.9,
        "dropout": 0.1}


def run(job):
    import torch
    import transformers

    from bam_core.method.spec import spec_from_dict
    from bam_core.method.train import train

    torch.set_num_threads(1)
    logging.disable(logging.INFO)
    transformers.utils.logging.disable_progress_bar()
    root, name, settings, seed, tasks = job
    out = root / "probe" / name / str(seed)
    spec = {"name": name, "mode": "single", "tasks": tasks, "tokens_dir": str(root / "tokens"),
            "init": {"kind": "pretrained", "path": str(root / "encoder")}, "seed": seed, "num_threads": 1,
            "device": "cpu", "checkpoint_every": 100000, "max_seq_length": 64, "save_model": False,
            "output_dir": str(out), "resume_dir": str(out / "checkpoint"), **BASE, **settings}
    metrics = train(spec_from_dict(spec))
    return seed, {t: m["score"] for t, m in metrics["tasks"].items()}


def main():
    root, name, settings, seeds, tasks = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
    floor = chance(root, tasks)
    start, rows = time.time(), []
    with ProcessPoolExecutor(2) as pool:
        for seed, scores in pool.map(run, [(root, name, settings, s, tasks) for s in range(seeds)]):
            rows.append(scores)
            print(seed, " ".join(f"{t}={v:5.1f}" for t, v in scores.items()), flush=True)
    stuck = sum(1 for r in rows for t, v in r.items() if v <= floor[t] + 2 or v >= 99)
    medians = " ".join(f"{t}={np.median([r[t] for r in rows]):.1f}" for t in tasks)
    print(f"RESULT {name} {json.dumps(settings)} one-class {stuck}/{len(rows) * len(tasks)} medians {medians} "
          f"{time.time() - start:.0f}s")


if __name__ == "__main__":
    main()
