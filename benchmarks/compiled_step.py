"""Does torch.compile speed up the demo's training? `bam train`'s step on the demo encoder, eager against compiled.

    python benchmarks/compiled_step.py [--steps 150] [--threads 1] [--batch-size 16] [--repeats 2]

The demo's encoder sizes (config.yaml `encoder.demo`: hidden 64, 2 layers, 2 heads, intermediate 128,
vocabulary 1000; random init), synthetic GLUE-like text of four tasks (benchmarks/train_throughput.py's),
the demo's batch size and thread count per job. Ours is the multi-task path of `bam train` (TaskBatches, packed
batches, training_step) three ways: eager (what `bam train` does), the model under torch.compile with
dynamic shapes (inductor; a packed batch's shape changes from batch to batch), and compiled with static
shapes (each new shape recompiles, up to dynamo's limit, then runs eager). Compilation is timed apart (the
first steps) and the steady state after it; rounds are interleaved and the best of each kept. Prints
ms per step per way and last: `compiled vs eager: dynamic Ax, static Bx (above 1: compiled is faster);
compilation Cs, Ds`. Asserts nothing.

Why it exists: the demo's time is per-op overhead of a tiny model, which kernel fusion could cut. It does not.
Measured 2026-11-30 (torch 2.13 CPU, beside a 2-thread training job on the 2 cores): eager 11.4 ms/step;
dynamic 86.8 ms/step (0.13x: the per-task slices of a packed batch are Python ints that dynamo guards on, so
batches recompile); static 13.3 ms/step (0.86x: after dynamo's recompile limit it runs eager); compilation
13 s and 6 s with inductor's on-disk cache warm, 58 s and 115 s cold.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_throughput import TASKS, setup_ours, synthetic, write_tokens

from bam_core.method.spec import RunSpec
from bam_core.method.train import training_step

DEMO = {"vocab_size": 1000, "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
        "intermediate_size": 128, "initializer_range": 0.05}
WARMUP = 10  # steps before the timing: compilation (and recompilations) happen here


def demo_data(work: Path, n: int):
    """A word-level tokenizer over the synthetic words and the demo encoder's config dir."""
    from transformers import BertConfig, BertTokenizerFast

    (work / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
                                              + [f"w{i}" for i in range(900)]) + "\n")
    tokenizer = BertTokenizerFast(str(work / "vocab.txt"))
    BertConfig(max_position_embeddings=64, **DEMO).save_pretrained(work / "config")
    rng = np.random.default_rng(0)
    data = {}
    for task in TASKS:
        rows = synthetic(task, n, rng)
        a, b = [r[0] for r in rows], [r[1] for r in rows]
        data[task] = (tokenizer(a, b if b[0] is not None else None, truncation=True, max_length=64),
                      [r[2] for r in rows])
    write_tokens(data, work / "tokens", tokenizer.pad_token_id)
    return {"kind": "config", "path": str(work / "config")}


def run(init: dict, work: Path, args, way: str) -> tuple[float, float]:
    """(seconds of the first WARMUP steps, ms per step after them) of one way."""
    spec = RunSpec(tasks=list(TASKS), tokens_dir=str(work / "tokens"), init=init, lr=1e-3, batch_size=args.batch_size,
                   max_seq_length=64, device="cpu", seed=0, output_dir="-", resume_dir="-")
    _, autocast, plan, model, optimizer, scheduler = setup_ours(spec)
    if way != "eager":
        torch._dynamo.reset()  # no compiled code carried over from the previous way
        model = torch.compile(model, dynamic=way == "dynamic")
    start = time.perf_counter()
    for step in range(WARMUP + args.steps):
        if step == WARMUP:
            warm, start = time.perf_counter() - start, time.perf_counter()
        training_step(model, optimizer, scheduler, plan.batch(step % plan.total_steps), 0.5, spec, autocast)
    return warm, 1000 * (time.perf_counter() - start) / args.steps


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=150, help="steps timed after the first 10")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2, help="interleaved rounds; the best round of each counts")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch._logging.set_logs(dynamo=logging.ERROR)  # recompilation warnings: the figures say it
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    ways = ("eager", "dynamic", "static")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        init = demo_data(work, n=400)
        print(f"model: the demo encoder (random init); data: synthetic GLUE-like text of {', '.join(TASKS)}; "
              f"batch {args.batch_size}; {args.steps} steps timed after {WARMUP}; cpu, {args.threads} threads")
        ms, warm = {}, {}
        for rep in range(args.repeats):
            for way in ways:
                with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet):
                    w, m = run(init, work, args, way)
                ms.setdefault(way, []).append(m)
                warm.setdefault(way, []).append(w)
                print(f"round {rep + 1}: {way:<8} first {WARMUP} steps {w:6.1f} s   then {m:6.2f} ms/step", flush=True)
    best = {way: min(v) for way, v in ms.items()}
    print(f"compiled vs eager: dynamic {best['eager'] / best['dynamic']:.2f}x, static {best['eager'] / best['static']:.2f}x "
          f"(above 1: compiled is faster); compilation {max(warm['dynamic']):.0f}s, {max(warm['static']):.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
