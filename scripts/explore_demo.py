"""Tune the demo: build the synthetic suite with given knobs, train Single, Multi, Single->Multi, lambda = 0
in-process (no Snakemake, no per-job start-up), print each run's dev scores and the medians over seeds.

    PYTHONPATH=$PWD python scripts/explore_demo.py --out /tmp/explore --scale 0.5 --floor 300 --noise 0.2 \
        --single '{"lr": 3e-3, "batch_size": 16, "epochs": 6}' --multi '{"lr": 3e-3, "batch_size": 32, "epochs": 6}'

--mixed emulates task-mixed batches (no length bucketing) on a trainer that still buckets by length.
The teacher is Single at the first seed, as in the workflow's default.
"""
import argparse, json, sys, time
from pathlib import Path
import numpy as np, pandas as pd, pyarrow.parquet as pq, pyarrow as pa
import torch
from bam_core.data import demo_encoder, prepare, tokens, synthetic
from bam_core.data.splits import write_splits, split_metadata
from bam_core.data.tasks import get_task
from bam_core.method.spec import spec_from_dict
from bam_core.method.train import train
from bam_core.method.teachers import merge_logits
torch.set_num_threads(1)
import logging; logging.disable(logging.INFO)

p = argparse.ArgumentParser()
p.add_argument("--out", required=True)
p.add_argument("--tasks", nargs="+", default=list(synthetic.SUITE))
p.add_argument("--noise", type=float, default=0.2)
p.add_argument("--sharing", type=float, default=1.0)
p.add_argument("--scale", type=float, default=1.0)
p.add_argument("--seeds", type=int, default=2)
p.add_argument("--variants", nargs="+", default=["single", "multi", "single-multi", "lambda0"])
p.add_argument("--single", default='{"lr": 3e-3, "batch_size": 32, "epochs": 3}')
p.add_argument("--multi", default='{"lr": 3e-3, "batch_size": 64, "epochs": 3}')
p.add_argument("--hidden", type=int, default=32)
p.add_argument("--vocab", type=int, default=1000)
p.add_argument("--floor", type=int, default=100)
p.add_argument("--mixed", action="store_true")
a = p.parse_args()
root = Path(a.out); root.mkdir(parents=True, exist_ok=True)
synthetic.TRAIN_FLOOR = a.floor
if a.mixed:  # emulate task-mixed batches: no length bucketing
    import bam_core.method.train as T, bam_core.method.batches as B
    class Mixed(B.TaskBatches):
        def __init__(self, *args, **kw): super().__init__(*args, pool_batches=1)
    T.TaskBatches = Mixed
t0 = time.time()
for t in a.tasks:
    tables = synthetic.load(get_task(t), 0, a.scale, a.noise, a.sharing)
    write_splits(root / "data" / t, {s: (tb, split_metadata(get_task(t), s, "x", tb)) for s, tb in tables.items()})
enc = root / "encoder"
demo_encoder.main(["--data-dir", str(root / "data"), "--tasks", *a.tasks, "--out-dir", str(enc), "--vocab-size", str(a.vocab),
                   "--hidden-size", str(a.hidden), "--num-hidden-layers", "2", "--num-attention-heads", "2",
                   "--intermediate-size", str(2 * a.hidden), "--max-position-embeddings", "64"])
for t in a.tasks:
    tokens.main(["--tokenizer", str(enc), "--data-dir", str(root / "data" / t), "--out-dir", str(root / "tokens" / t), "--max-seq-length", "64"])
print(f"data {time.time()-t0:.1f}s", flush=True)

def run(name, mode, seed, teacher=None, **kw):
    base = json.loads(a.single if mode == "single" else a.multi)
    spec = {"name": name, "mode": mode, "tasks": a.tasks, "tokens_dir": str(root / "tokens"),
            "init": {"kind": "config", "path": str(enc)}, "seed": seed, "num_threads": 1, "device": "cpu",
            "checkpoint_every": 100000, "max_seq_length": 64, "teacher_logits": teacher,
            "output_dir": str(root / "runs" / name / str(seed)), "resume_dir": str(root / "ckpt" / name / str(seed)),
            **base, **kw}
    t = time.time()
    m = train(spec_from_dict(spec))
    s = {k: v["score"] for k, v in m["tasks"].items()}
    s["Avg"] = float(np.mean(list(s.values())))
    print(f"{name:14s} seed {seed} {time.time()-t:5.1f}s " + " ".join(f"{k}={v:5.1f}" for k, v in s.items()), flush=True)
    return s

rows = []
teacher = None
for seed in range(a.seeds):
    if "single" in a.variants or teacher is None:
        rows.append(("single", seed, run("single", "single", seed)))
        if teacher is None:
            teacher = str(root / "teacher.parquet")
            merge_logits([str(root / "runs" / "single" / str(seed) / "logits.parquet")], teacher)
for v in a.variants:
    for seed in range(a.seeds):
        if v == "multi": rows.append((v, seed, run(v, "multi", seed)))
        if v == "single-multi": rows.append((v, seed, run(v, "multi", seed, teacher)))
        if v == "lambda0": rows.append((v, seed, run(v, "multi", seed, teacher, annealing=0.0)))
        if v == "nosampling": rows.append((v, seed, run(v, "multi", seed, teacher, sampling_exponent=1.0)))
df = pd.DataFrame([{"variant": v, "seed": s, **sc} for v, s, sc in rows])
med = df.groupby("variant").median(numeric_only=True).drop(columns="seed")
pd.set_option("display.width", 200)
print(json.dumps(vars(a)))
print(med.round(1).to_string())
print(f"total {time.time()-t0:.0f}s")
