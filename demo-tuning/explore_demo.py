"""Tune the demo: build the synthetic suite with given knobs, train Single, Multi, Single->Multi and
lambda = 0 in-process (no Snakemake, no per-job start-up), print each run's dev scores, the medians over
seeds and which of the demo's targets hold (docs/demo.md). It ends with a Markdown block of the
configuration and its medians, for docs/design-log.md when a configuration is adopted.

    PYTHONPATH=$PWD nice -n 5 python demo-tuning/explore_demo.py --out /tmp/explore --jobs 2 --seeds 3 \
        --single '{"lr": 1e-3, "batch_size": 16, "epochs": 6}' --multi '{"lr": 5e-4, "batch_size": 32, "epochs": 6}'

The demo's config.yaml as flags (Single's and Multi's scores are the demo's, the distilled
students' within ~0.3 of its Avg):

    PYTHONPATH=$PWD python demo-tuning/explore_demo.py --out /tmp/explore --jobs 2 --seeds 3 --hidden 64 \
        --init-range 0.05 --pretrain-steps 600 --noise 0.1 --single '{"lr": 3e-3, "batch_size": 16, "epochs": 3,
        "min_steps": 120, "warmup_fraction": 0.3, "adam_bias_correction": true, "dropout": 0.0}' --multi '{"lr":
        2e-3, "batch_size": 64, "epochs": 4, "adam_bias_correction": true, "dropout": 0.0}'

The teacher is Single at the first seed, as in the workflow's default (teacher_seed: first). Single uses
alpha 0.9 on every task here (the workflow picks it per task from {1.0, 0.9}).
"""

import argparse
import json
import logging
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from bam_core.data import demo_encoder, synthetic, tokens
from bam_core.data.splits import split_metadata, write_splits
from bam_core.data.tasks import get_task

SMALL = ["CoLA", "MRPC", "STS-B", "RTE"]
VARIANTS = {"single": ("single", False, {}), "multi": ("multi", False, {}),
            "single-multi": ("multi", True, {}), "lambda0": ("multi", True, {"annealing": 0.0}),
            "nosampling": ("multi", True, {"sampling_exponent": 1.0})}


def arguments():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--tasks", nargs="+", default=list(synthetic.SUITE))
    p.add_argument("--noise", type=float, default=0.2)
    p.add_argument("--sharing", type=float, default=1.0)
    p.add_argument("--scale", type=float, default=0.5)
    p.add_argument("--floor", type=int, default=synthetic.TRAIN_FLOOR)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--first-seed", type=int, default=0, help="seeds first..first+seeds-1 (the teacher stays seed 0)")
    p.add_argument("--jobs", type=int, default=1, help="training processes side by side (1 torch thread each)")
    p.add_argument("--variants", nargs="+", default=["single", "multi", "single-multi", "lambda0"])
    p.add_argument("--single", default='{"lr": 1e-3, "batch_size": 16, "epochs": 6}')
    p.add_argument("--multi", default='{"lr": 5e-4, "batch_size": 32, "epochs": 6}')
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=2)
    p.add_argument("--intermediate", type=int, default=None, help="default 2 x hidden")
    p.add_argument("--vocab", type=int, default=1000)
    p.add_argument("--init-range", type=float, default=0.02, help="BertConfig.initializer_range (BERT: 0.02)")
    p.add_argument("--patch", nargs="*", default=[], help="generator variants from the module --patches")
    p.add_argument("--patches", help="a module whose PATCHES maps a name to a function that monkeypatches "
                   "bam_core.data.synthetic (the variants tried before 53185b5: "
                   "git show 53185b5:scripts/explore_demo_patches.py)")
    p.add_argument("--pretrain-steps", type=int, default=0, help="MLM pretraining of the encoder (0: random init)")
    p.add_argument("--pretrain-lr", type=float, default=1e-3)
    p.add_argument("--pretrain-exclude", nargs="*", default=[], help="tasks whose training text MLM skips")
    p.add_argument("--note", default="", help="one line for the log: what this configuration tries")
    return p.parse_args()


def build_suite(a, root: Path):
    synthetic.TRAIN_FLOOR = a.floor
    if a.patch:
        if not a.patches:
            raise SystemExit("--patch needs --patches MODULE.py")
        import importlib.util
        spec = importlib.util.spec_from_file_location("patches", a.patches)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name in a.patch:
            module.PATCHES[name]()
    for t in a.tasks:
        tables = synthetic.load(get_task(t), 0, a.scale, a.noise, a.sharing)
        write_splits(root / "data" / t, {s: (tb, split_metadata(get_task(t), s, "x", tb)) for s, tb in tables.items()})
    demo_encoder.main(["--data-dir", str(root / "data"), "--tasks", *a.tasks, "--out-dir", str(root / "encoder"),
                       "--vocab-size", str(a.vocab), "--hidden-size", str(a.hidden),
                       "--num-hidden-layers", str(a.layers), "--num-attention-heads", str(a.heads),
                       "--intermediate-size", str(a.intermediate or 2 * a.hidden), "--max-position-embeddings", "64"])
    config = json.loads((root / "encoder" / "config.json").read_text())
    (root / "encoder" / "config.json").write_text(json.dumps({**config, "initializer_range": a.init_range}))
    if a.pretrain_steps:
        from bam_core.data.demo_pretraining import encoder_of, examples, pretrain_mlm
        t0 = time.time()
        text = examples(root / "data", [t for t in a.tasks if t not in a.pretrain_exclude])
        mlm = pretrain_mlm(root / "encoder", text, a.pretrain_steps, lr=a.pretrain_lr, num_threads=a.jobs)
        encoder_of(mlm).save_pretrained(root / "encoder")
        print(f"pretraining {time.time() - t0:.1f}s", flush=True)
    for t in a.tasks:
        tokens.main(["--tokenizer", str(root / "encoder"), "--data-dir", str(root / "data" / t),
                     "--out-dir", str(root / "tokens" / t), "--max-seq-length", "64"])


def run(job):
    """One training run in a worker process: (variant, seed, scores, seconds)."""
    import torch

    from bam_core.method.spec import spec_from_dict
    from bam_core.method.train import train

    import transformers

    torch.set_num_threads(1)
    logging.disable(logging.INFO)
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    a, root, variant, seed, teacher = job
    mode, distilled, settings = VARIANTS[variant]
    spec = {"name": variant, "mode": mode, "tasks": a.tasks, "tokens_dir": str(root / "tokens"),
            "init": {"kind": "pretrained" if a.pretrain_steps else "config", "path": str(root / "encoder")},
            "seed": seed, "num_threads": 1,
            "device": "cpu", "checkpoint_every": 100000, "max_seq_length": 64,
            "teacher_logits": teacher if distilled else None, "predict_train": variant == "single" and seed == 0,
            "output_dir": str(root / "runs" / variant / str(seed)), "resume_dir": str(root / "ckpt" / variant / str(seed)),
            **json.loads(a.single if mode == "single" else a.multi), **settings}
    start = time.time()
    metrics = train(spec_from_dict(spec))
    scores = {k: v["score"] for k, v in metrics["tasks"].items()}
    scores["Avg"] = float(np.mean(list(scores.values())))
    return variant, seed, scores, time.time() - start


def chance(root: Path, tasks) -> dict:
    """Each task's chance score: the majority class's dev accuracy (0 for MCC and correlation)."""
    out = {}
    for t in tasks:
        task = get_task(t)
        labels = pq.read_table(root / "data" / t / "dev.parquet").column("label").to_numpy()
        out[t] = 0.0 if task.is_regression or t == "CoLA" else 100.0 * np.bincount(labels).max() / len(labels)
    return out


def checks(df: pd.DataFrame, floor: dict) -> list[str]:
    med = df.groupby("variant").median(numeric_only=True)
    lines = []
    if {"single", "multi"} <= set(med.index):
        lines.append("Multi > Single on " + ", ".join(f"{t} {med.at['multi', t] - med.at['single', t]:+.1f}"
                                                       for t in SMALL if t in med))
    if {"single", "multi", "single-multi"} <= set(med.index):
        sm = med.at["single-multi", "Avg"]
        lines.append(f"S->M Avg vs Single {sm - med.at['single', 'Avg']:+.1f}, vs Multi {sm - med.at['multi', 'Avg']:+.1f}")
    if {"lambda0", "single-multi"} <= set(med.index):
        lines.append(f"lambda0 - S->M Avg {med.at['lambda0', 'Avg'] - med.at['single-multi', 'Avg']:+.1f}")
    bad = [f"{r.variant}/{r.seed}/{t} {getattr(r, t.replace('-', '_')):.1f}" for r in
           df.rename(columns=lambda c: c.replace("-", "_")).itertuples()
           for t in floor if not floor[t] < getattr(r, t.replace("-", "_")) < 99]
    lines.append(f"scores outside (chance, 99): {len(bad)}" + (f" ({', '.join(bad)})" if bad else ""))
    return lines


def main():
    a = arguments()
    root = Path(a.out)
    root.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    build_suite(a, root)
    print(f"data {time.time() - t0:.1f}s", flush=True)
    teacher = str(root / "runs" / "single" / "0" / "logits.parquet")
    rows = []
    with ProcessPoolExecutor(a.jobs) as pool:
        distilled = any(VARIANTS[v][1] for v in a.variants)
        seeds = range(a.first_seed, a.first_seed + a.seeds)
        first = [(a, root, "single", s, None) for s in seeds] if "single" in a.variants else []
        if distilled and not (first and 0 in seeds):
            first.insert(0, (a, root, "single", 0, None))  # the teacher, whose scores are not reported
        rest = [(a, root, v, s, teacher) for v in a.variants if v != "single" for s in seeds]
        # the teacher (Single seed 0) first; undistilled runs need no teacher and fill the other worker
        waves = [first + [j for j in rest if not VARIANTS[j[2]][1]], [j for j in rest if VARIANTS[j[2]][1]]]
        for wave in waves:
            for variant, seed, scores, seconds in pool.map(run, wave):
                if seed in seeds:
                    rows.append({"variant": variant, "seed": seed, **scores})
                print(f"{variant:14s} seed {seed} {seconds:5.1f}s " + " ".join(f"{k}={v:5.1f}" for k, v in scores.items()), flush=True)
    df = pd.DataFrame(rows)
    df.to_csv(root / "scores.csv", index=False)
    med = df.groupby("variant").median(numeric_only=True).drop(columns="seed")[["Avg", *a.tasks]]
    settings = {k: v for k, v in vars(a).items() if k not in ("out", "jobs", "note", "tasks")}
    print(f"\n### {a.note or 'configuration'}\n\n`{json.dumps(settings)}`, {time.time() - t0:.0f} s with {a.jobs} jobs\n")
    print("| medians | " + " | ".join(med.columns) + " |\n|" + "---|" * (len(med.columns) + 1))
    for v, r in med.iterrows():
        print(f"| {v} | " + " | ".join(f"{x:.1f}" for x in r) + " |")
    print("\n" + "\n".join(f"- {line}" for line in checks(df, chance(root, a.tasks))))


if __name__ == "__main__":
    main()
